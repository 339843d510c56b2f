// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Claims: paired t intervals of per-seed differences, and the verdict they give a paper's finding.
#include "experiment/claims.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "config/checked.h"
#include "core/error.h"
#include "experiment/table.h"

namespace detlab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Continued fraction of the incomplete beta function (Lentz's method, as Numerical Recipes' betacf).
double beta_continued_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEps = 1e-15;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d, c = 1 + aa / c;
    if (std::fabs(d) < kTiny) d = kTiny;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d, h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d, c = 1 + aa / c;
    if (std::fabs(d) < kTiny) d = kTiny;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < kEps) break;
  }
  return h;
}

// Regularized incomplete beta I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
                                b * std::log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, 1 - x) / b;
}

// P(T <= t) for Student's t with df degrees of freedom, t >= 0.
double student_t_cdf(double t, double df) { return 1 - 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t)); }

std::string signed_fixed(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.*f", digits, v);
  return buf;
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kHolds: return "holds";
    case Verdict::kReversed: return "reversed";
    case Verdict::kInconclusive: break;
  }
  return "inconclusive";
}

double student_t_quantile(double p, double df) {
  DETLAB_REQUIRE(p > 0.5 && p < 1 && df >= 1, p, df);
  double lo = 0, hi = 1;
  while (student_t_cdf(hi, df) < p) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12; ++i) {
    const double mid = (lo + hi) / 2;
    (student_t_cdf(mid, df) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

ClaimResult judge_claim(const Claim& claim, const std::vector<double>& better, const std::vector<double>& worse) {
  ClaimResult r;
  r.claim = claim;
  std::vector<double> a, b, d;
  for (size_t i = 0; i < better.size() && i < worse.size(); ++i)
    if (std::isfinite(better[i]) && std::isfinite(worse[i])) {
      a.push_back(better[i]), b.push_back(worse[i]), d.push_back(better[i] - worse[i]);
    }
  r.n = static_cast<int>(d.size());
  auto mean = [](const std::vector<double>& x) {
    double s = 0;
    for (double v : x) s += v;
    return x.empty() ? kNaN : s / static_cast<double>(x.size());
  };
  r.mean_better = mean(a), r.mean_worse = mean(b), r.diff = mean(d);
  r.lo = r.hi = kNaN;
  if (r.n < 2) return r;
  double ss = 0;
  for (double v : d) ss += (v - r.diff) * (v - r.diff);
  const double se = std::sqrt(ss / (r.n - 1)) / std::sqrt(static_cast<double>(r.n));
  const double t = student_t_quantile(0.975, r.n - 1);
  r.lo = r.diff - t * se, r.hi = r.diff + t * se;
  const double floor = claim.at_least ? -claim.margin : 0.0;
  if (r.lo > floor)
    r.verdict = Verdict::kHolds;
  else if (r.hi < floor)
    r.verdict = Verdict::kReversed;
  return r;
}

PaperColumn parse_paper(const Config& node) {
  PaperColumn p;
  if (node.is_null()) return p;
  if (!node.is_map()) throw InputError(node.file(), node.path(), "expected {source: ..., values: {row: number}}");
  p.source = node.get<std::string>("source");
  if (node.has("values")) {
    const Config v = node.child("values");
    if (!v.is_map()) config_error(node, "values", "expected a map {row label: number}");
    for (const std::string& k : v.keys()) {
      const double x = v.get<double>(k);
      if (!std::isfinite(x)) config_error(v, k, "must be a finite number");
      p.values[k] = x;
    }
  }
  node.expect_consumed();
  return p;
}

std::vector<Claim> parse_claims(const Config& node) {
  std::vector<Claim> out;
  if (node.is_null()) return out;
  if (!node.is_sequence()) throw InputError(node.file(), node.path(), "expected a list of claims");
  for (size_t i = 0; i < node.size(); ++i) {
    const Config c = node.at(i);
    if (!c.is_map()) throw InputError(c.file(), c.path(), "expected {claim, better, worse, metric, source}");
    Claim k;
    k.text = c.get<std::string>("claim");
    k.better = c.get<std::string>("better");
    k.worse = c.get<std::string>("worse");
    k.metric = c.get<std::string>("metric", k.metric);
    k.at_least = c.get<bool>("at_least", k.at_least);
    k.margin = c.get<double>("margin", k.margin);
    k.source = c.get<std::string>("source", k.source);
    if (!(k.margin >= 0 && std::isfinite(k.margin))) config_error(c, "margin", "must be finite and >= 0");
    if (k.better == k.worse) config_error(c, "worse", "compares a row with itself");
    c.expect_consumed();
    out.push_back(k);
  }
  return out;
}

std::vector<ClaimResult> judge_claims(const std::vector<Claim>& claims, const SeedValues& rows) {
  std::vector<ClaimResult> out;
  for (const Claim& c : claims) {
    const auto a = rows.find(c.better), b = rows.find(c.worse);
    std::string problem;
    if (a == rows.end()) problem = "no row '" + c.better + "'";
    else if (b == rows.end()) problem = "no row '" + c.worse + "'";
    else if (!a->second.count(c.metric) || !b->second.count(c.metric)) problem = "no metric '" + c.metric + "'";
    if (!problem.empty()) {
      ClaimResult r;
      r.claim = c;
      r.lo = r.hi = r.diff = r.mean_better = r.mean_worse = kNaN;
      r.problem = problem;
      out.push_back(r);
      continue;
    }
    out.push_back(judge_claim(c, a->second.at(c.metric), b->second.at(c.metric)));
  }
  return out;
}

std::string format_claims(const std::vector<ClaimResult>& results) {
  std::ostringstream s;
  s << "| claim | source | metric | ours | difference [95 % CI] | seeds | verdict |\n"
       "|---|---|---|---|---|---:|---|\n";
  for (const ClaimResult& r : results) {
    const Claim& c = r.claim;
    s << "| " << c.text << " | " << c.source << " | " << c.metric << " | ";
    if (!r.problem.empty()) {
      s << r.problem << " | | 0 | inconclusive |\n";
      continue;
    }
    s << c.better << " " << format_fixed(r.mean_better, 3) << " vs " << c.worse << " "
      << format_fixed(r.mean_worse, 3) << " | "
      << signed_fixed(r.diff, 3) << " [" << signed_fixed(r.lo, 3) << ", " << signed_fixed(r.hi, 3) << "] | " << r.n
      << " | " << verdict_name(r.verdict) << " |\n";
  }
  s << "\nVerdicts: the mean of the per-seed differences with a paired Student t interval (95 %, n - 1 degrees of "
       "freedom); \"holds\" when the interval lies above 0 (above -margin for \">=\" claims), \"reversed\" when "
       "below, otherwise inconclusive (always with fewer than 2 seeds).\n";
  return s.str();
}

}  // namespace detlab
