// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab ablate: run an ablation grid (resumable, shardable) and collect it into tables with mean ± std and
// bootstrap confidence intervals over seeds.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "experiment/ablate_spec.h"
#include "experiment/cached_run.h"
#include "experiment/table.h"

namespace detlab {

struct AblateOptions {
  std::filesystem::path out_dir;        // empty: results/runs/<spec name>
  int threads = 0;
  std::string device = "cpu";
  bool retrain = false;                 // retrain each model group once in this invocation
  bool reuse_stale = false;             // CachedRunOptions::reuse_stale
  int shard_index = 0, shard_count = 1; // run only shard_points(points, index, count)
  std::vector<std::string> overrides;   // --set for every point, applied last
  std::string command_line;             // for the manifest
};

struct PointResult {
  GridPoint point;
  bool ok = false;
  bool input_error = false;
  std::string error;
  RunOutcome outcome;
};

struct AblationRunResult {
  std::filesystem::path out_dir;
  std::vector<PointResult> points;  // the points this invocation ran (its shard)
  int reused = 0, trained = 0, evaluated = 0, failed = 0;
  bool any_input_error = false;
};

/// Runs the points of the requested shard: points/<slug>/ (run_cached; models in models/<group>/, shared by
/// points that differ only in eval-only axes), and writes ablation.json (the spec and every point of the
/// grid, identical from every shard). A failed point is recorded in points/<slug>/error.json and the next
/// point runs. Finished points are reused, so an interrupted or repeated run redoes only what is missing.
AblationRunResult run_ablation(const AblationSpec& spec, const AblateOptions& opts);

/// Checks every point of the requested shard without training: loads its config and builds its detector
/// (unknown keys, bad values and missing files show up here), and reports whether it is already finished.
/// Writes nothing. PointResult::ok is false with the error for a point whose config does not build.
std::vector<PointResult> dry_run_ablation(const AblationSpec& spec, const AblateOptions& opts);

struct CollectOptions {
  std::string command_line;
  bool plots = true;
};

struct AblationCollectResult {
  std::filesystem::path out_dir;
  Table table;                       // the Markdown / LaTeX table (mean ± std [CI])
  std::vector<std::string> missing;  // points without a finished run (slug: reason)
  int points = 0, finished = 0;
  std::string plot_error;
  std::vector<ClaimResult> claims;   // the spec's claims with their verdicts (claims.md), if any
};

/// Reads ablation.json and every point's run.json in out_dir and writes table.{md,csv,tex} (one row per
/// setting: the axis values, n seeds, then AP, AP50, AP75, AR100, VOC07 mAP, ms per image and training
/// seconds as mean ± sample std with the 95 % percentile-bootstrap interval of the mean, 10,000 resamples,
/// seed 0; the CSV has separate _mean, _std, _ci_lo, _ci_hi columns), results.json (per setting and metric:
/// values per seed, mean, std, ci) and manifest.json; then the plots. A spec with `paper:` adds the published
/// number of each row (its setting label: the axis labels joined by ", ") as a last column; one with `claims:`
/// writes claims.md with each claim's verdict (experiment/claims.h) and lists them in results.json. Settings with missing points are
/// summarised over the seeds that finished, and listed in `missing`.
/// InputError when out_dir has no ablation.json.
AblationCollectResult collect_ablation(const std::filesystem::path& out_dir, const CollectOptions& opts);

/// results/runs/<name> for a spec (the default out_dir).
std::filesystem::path default_ablation_dir(const AblationSpec& spec);

}  // namespace detlab
