// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// A paper's finding stated as a comparison between two rows of a table, and the verdict our seeds give it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.h"

namespace detlab {

/// "better > worse" (better is higher) or "better >= worse" (better is not lower by more than `margin`).
struct Claim {
  std::string text;    ///< the finding as the paper states it ("gamma 2 > gamma 0")
  std::string better;  ///< row label expected to be higher
  std::string worse;   ///< row label expected to be lower
  std::string metric = "AP";  ///< a column of the results: AP, AP50, AP75, AR100, voc07
  bool at_least = false;      ///< ">=": holds unless `better` is clearly lower by more than margin
  double margin = 0;          ///< for ">=", in the metric's units
  std::string source;         ///< where the paper says it ("Lin et al. 2017, Table 1b")
};

enum class Verdict { kHolds, kReversed, kInconclusive };
/// "holds", "reversed", "inconclusive".
const char* verdict_name(Verdict v);

/// The difference better - worse over the seeds both rows finished, and its two-sided 95 % interval.
struct ClaimResult {
  Claim claim;
  int n = 0;                 ///< seeds in common
  double mean_better = 0, mean_worse = 0;
  double diff = 0;           ///< mean of the per-seed differences
  double lo = 0, hi = 0;     ///< diff -/+ t(0.975, n - 1) * sd / sqrt(n); NaN for n < 2
  Verdict verdict = Verdict::kInconclusive;
  std::string problem;       ///< why there is no verdict: an unknown row or metric ("" otherwise)
};

/// Student's t quantile t(p, df) for 0.5 < p < 1 and df >= 1 (bisection on the regularized incomplete beta,
/// accurate to 1e-10; t(0.975, 2) = 4.302653).
double student_t_quantile(double p, double df);

/// The verdict from the per-seed values of the two rows (vectors indexed by seed, NaN where a seed is missing;
/// seeds are paired because both rows trained on the same seed's data order). The method, stated in every
/// table: a paired t interval of the mean difference, 95 %, n - 1 degrees of freedom (a percentile bootstrap
/// over 3 seeds is too narrow). ">": holds when lo > 0, reversed when hi < 0. ">=": holds when lo > -margin,
/// reversed when hi < -margin. Otherwise, and always with fewer than 2 common seeds, inconclusive.
ClaimResult judge_claim(const Claim& claim, const std::vector<double>& better, const std::vector<double>& worse);

/// The published numbers beside ours: `paper: {source: "Girshick et al. 2014, Table 2 (VOC 2007 mAP)",
/// values: {row label: number, ...}}`. Rows without a published number show a dash.
struct PaperColumn {
  std::string source;
  std::map<std::string, double> values;
};
/// InputError naming the key for a missing source or a value that is not a number.
PaperColumn parse_paper(const Config& node);

/// Parses a spec's `claims:` list, each item {claim: "gamma 2 > gamma 0", better: LABEL, worse: LABEL,
/// metric: AP, at_least: false, margin: 0, source: "..."}; InputError naming the key otherwise.
std::vector<Claim> parse_claims(const Config& node);

/// Per row label, per metric, the values by seed (NaN where a seed did not finish).
using SeedValues = std::map<std::string, std::map<std::string, std::vector<double>>>;

/// judge_claim for each claim over `rows`; a claim naming an unknown row or metric gets `problem` set and no
/// verdict (inconclusive), so that a table still shows it.
std::vector<ClaimResult> judge_claims(const std::vector<Claim>& claims, const SeedValues& rows);

/// The claims table (markdown): claim, source, metric, our means, difference [95 % CI], n, verdict, then a
/// line stating the method.
std::string format_claims(const std::vector<ClaimResult>& results);

}  // namespace detlab
