// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Statistics over seeds: mean, sample std, quantiles and the percentile bootstrap of the mean.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "experiment/stats.h"

using namespace detlab;

TEST_CASE("mean and sample standard deviation (ddof = 1)", "[experiment][stats]") {
  REQUIRE(sample_mean({2, 4, 4, 4, 5, 5, 7, 9}) == Approx(5.0));
  // numpy.std([2, 4, 4, 4, 5, 5, 7, 9], ddof=1) = 2.138089935299395
  REQUIRE(sample_std({2, 4, 4, 4, 5, 5, 7, 9}) == Approx(2.138089935299395).epsilon(1e-12));
  REQUIRE(std::isnan(sample_std({1.0})));
  REQUIRE(std::isnan(sample_mean({})));
}

TEST_CASE("quantile interpolates linearly between order statistics (numpy default)", "[experiment][stats]") {
  REQUIRE(quantile({4, 1, 3, 2}, 0.0) == 1);
  REQUIRE(quantile({4, 1, 3, 2}, 1.0) == 4);
  REQUIRE(quantile({4, 1, 3, 2}, 0.5) == Approx(2.5));
  REQUIRE(quantile({4, 1, 3, 2}, 0.9) == Approx(3.7));  // numpy.quantile([1,2,3,4], .9)
}

/// The bootstrap written plainly: resample with a fresh index draw per element, sort the means, pick the
/// order statistics by the same interpolation. The library must agree exactly (same draws, same order).
Interval naive_bootstrap(const std::vector<double>& x, int resamples, double confidence, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> means;
  for (int b = 0; b < resamples; ++b) {
    double s = 0;
    for (size_t k = 0; k < x.size(); ++k) {
      const unsigned __int128 wide = static_cast<unsigned __int128>(rng()) * x.size();
      s += x[static_cast<size_t>(wide >> 64)];
    }
    means.push_back(s / x.size());
  }
  const double a = (1 - confidence) / 2;
  return {quantile(means, a), quantile(means, 1 - a)};
}

TEST_CASE("bootstrap CI equals the plain reference and behaves at the edges", "[experiment][stats]") {
  const std::vector<double> x = {0.41, 0.43, 0.40, 0.45, 0.42};
  const Interval ci = bootstrap_mean_ci(x);
  const Interval ref = naive_bootstrap(x, 10000, 0.95, 0);
  REQUIRE(ci.lo == ref.lo);
  REQUIRE(ci.hi == ref.hi);
  REQUIRE(ci.lo >= 0.40);
  REQUIRE(ci.hi <= 0.45);
  REQUIRE(ci.lo < sample_mean(x));
  REQUIRE(ci.hi > sample_mean(x));
  // Deterministic: the same sample gives the same interval.
  REQUIRE(bootstrap_mean_ci(x).lo == ci.lo);

  REQUIRE(bootstrap_mean_ci({0.7}).lo == 0.7);
  REQUIRE(bootstrap_mean_ci({0.7}).hi == 0.7);
  const Interval constant = bootstrap_mean_ci({0.3, 0.3, 0.3});
  REQUIRE(constant.lo == Approx(0.3));
  REQUIRE(constant.hi == Approx(0.3));
  REQUIRE(std::isnan(bootstrap_mean_ci({}).lo));
  REQUIRE(bootstrap_mean_ci({std::nan(""), 0.5}).lo == 0.5);  // NaN dropped
  BootstrapOptions bad;
  bad.confidence = 1.0;
  REQUIRE_THROWS_AS(bootstrap_mean_ci(x, bad), std::invalid_argument);
}

TEST_CASE("bootstrap CI width matches the normal approximation for a large sample", "[experiment][stats]") {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(10.0, 2.0);
  std::vector<double> x(400);
  for (double& v : x) v = normal(rng);
  const Interval ci = bootstrap_mean_ci(x);
  const double half = 1.959964 * sample_std(x) / std::sqrt(400.0);
  REQUIRE((ci.hi - ci.lo) / 2 == Approx(half).epsilon(0.08));
  REQUIRE((ci.hi + ci.lo) / 2 == Approx(sample_mean(x)).epsilon(0.002));
}
