// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// mean, std, quantile, percentile bootstrap.
#include "experiment/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/error.h"

namespace detlab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> finite_only(const std::vector<double>& x) {
  std::vector<double> out;
  out.reserve(x.size());
  for (double v : x)
    if (!std::isnan(v)) out.push_back(v);
  return out;
}

double sorted_quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(std::floor(pos));
  const size_t j = std::min(i + 1, sorted.size() - 1);
  return sorted[i] + (pos - static_cast<double>(i)) * (sorted[j] - sorted[i]);
}

}  // namespace

double sample_mean(const std::vector<double>& x) {
  if (x.empty()) return kNaN;
  double s = 0;
  for (double v : x) s += v;
  return s / static_cast<double>(x.size());
}

double sample_std(const std::vector<double>& x) {
  if (x.size() < 2) return kNaN;
  const double m = sample_mean(x);
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(x.size() - 1));
}

double quantile(std::vector<double> x, double q) {
  DETLAB_REQUIRE(q >= 0 && q <= 1, "quantile outside [0, 1]", q);
  if (x.empty()) return kNaN;
  std::sort(x.begin(), x.end());
  return sorted_quantile(x, q);
}

Interval bootstrap_mean_ci(const std::vector<double>& values, const BootstrapOptions& opts) {
  DETLAB_REQUIRE(opts.resamples >= 1, "bootstrap needs at least one resample", opts.resamples);
  DETLAB_REQUIRE(opts.confidence > 0 && opts.confidence < 1, "confidence outside (0, 1)", opts.confidence);
  const std::vector<double> x = finite_only(values);
  if (x.empty()) return {kNaN, kNaN};
  if (x.size() == 1) return {x[0], x[0]};
  const uint64_t n = x.size();
  std::mt19937_64 rng(opts.seed);
  std::vector<double> means(static_cast<size_t>(opts.resamples));
  for (double& m : means) {
    double s = 0;
    for (uint64_t k = 0; k < n; ++k) {
      // Multiply-shift maps a 64-bit draw to [0, n) (Lemire 2019) identically on every standard library.
      const uint64_t idx = static_cast<uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
      s += x[idx];
    }
    m = s / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  const double alpha = (1 - opts.confidence) / 2;
  return {sorted_quantile(means, alpha), sorted_quantile(means, 1 - alpha)};
}

}  // namespace detlab
