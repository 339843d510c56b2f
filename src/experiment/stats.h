// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Summary statistics over repeated runs (seeds): mean, sample standard deviation, bootstrap confidence interval.
#pragma once

#include <cstdint>
#include <vector>

namespace detlab {

/// Arithmetic mean; NaN for an empty sample.
double sample_mean(const std::vector<double>& x);
/// Sample standard deviation (n - 1 in the denominator, numpy's std(ddof=1)); NaN for fewer than 2 values.
double sample_std(const std::vector<double>& x);

struct BootstrapOptions {
  int resamples = 10000;  // Efron & Tibshirani (1993) suggest >= 1000 for percentile intervals; 10^4 makes
                          // the interval's end points stable to about 3 decimals
  double confidence = 0.95;
  uint64_t seed = 0;      // fixed: the same sample always gives the same interval
};

struct Interval {
  double lo = 0, hi = 0;
};

/// Percentile bootstrap confidence interval of the mean (Efron 1979): `resamples` samples of size n drawn
/// with replacement (std::mt19937_64 raw draws mapped to [0, n) by multiply-shift, so the result does not
/// depend on the standard library), the mean of each, then the (1 - confidence) / 2 and (1 + confidence) / 2
/// quantiles of those means (linear interpolation between order statistics, numpy's default).
/// ensures: min(x) <= lo <= hi <= max(x); lo == hi == x[0] for n == 1; {NaN, NaN} for n == 0.
///          NaN values in x are dropped first.
/// requires: resamples >= 1, 0 < confidence < 1.
Interval bootstrap_mean_ci(const std::vector<double>& x, const BootstrapOptions& opts = {});

/// Linear-interpolation quantile of an unsorted sample (numpy.quantile's default method); NaN when empty.
/// requires: 0 <= q <= 1.
double quantile(std::vector<double> x, double q);

}  // namespace detlab
