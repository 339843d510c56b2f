// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// train_linear_svm (dlib's dual coordinate descent) against a naive primal subgradient solver.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "classifiers/svm_trainer.h"

using namespace detlab;

namespace {

/// The objective both solvers minimise: 0.5 (|w|^2 + b^2) + sum_i C_yi max(0, 1 - y_i (w.x_i + b)); dlib's
/// DCD regularises the bias as an extra constant feature.
double objective(const LinearModel& m, const cv::Mat& x, const std::vector<int>& y, double cp, double cn) {
  double o = 0.5 * m.b * m.b;
  for (float v : m.w) o += 0.5 * v * v;
  for (int i = 0; i < x.rows; ++i) o += (y[i] > 0 ? cp : cn) * std::max(0.0, 1.0 - y[i] * m.score(x.ptr<float>(i)));
  return o;
}

/// Naive reference: full-batch subgradient descent with a decaying step, keeping the best iterate.
LinearModel subgradient(const cv::Mat& x, const std::vector<int>& y, double cp, double cn, int iters) {
  const int d = x.cols;
  std::vector<double> w(d + 1, 0.0);  // last = bias
  LinearModel best;
  double best_obj = 1e300;
  for (int t = 1; t <= iters; ++t) {
    std::vector<double> g(w);
    for (int i = 0; i < x.rows; ++i) {
      double s = w[d];
      for (int k = 0; k < d; ++k) s += w[k] * x.at<float>(i, k);
      if (y[i] * s < 1) {
        const double c = y[i] > 0 ? cp : cn;
        for (int k = 0; k < d; ++k) g[k] -= c * y[i] * x.at<float>(i, k);
        g[d] -= c * y[i];
      }
    }
    const double step = 0.5 / std::sqrt(static_cast<double>(t)) / (1.0 + x.rows * std::max(cp, cn));
    for (int k = 0; k <= d; ++k) w[k] -= step * g[k];
    LinearModel m;
    for (int k = 0; k < d; ++k) m.w.push_back(static_cast<float>(w[k]));
    m.b = static_cast<float>(w[d]);
    const double o = objective(m, x, y, cp, cn);
    if (o < best_obj) best_obj = o, best = m;
  }
  return best;
}

}  // namespace

TEST_CASE("train_linear_svm reaches the SVM optimum of a naive solver", "[classifiers][svm_trainer]") {
  std::mt19937 rng(7767517);
  std::normal_distribution<float> noise(0.f, 1.f);
  const int n = 60, d = 3;
  cv::Mat x(n, d, CV_32F);
  std::vector<int> y(n);
  for (int i = 0; i < n; ++i) {
    y[i] = i % 3 == 0 ? 1 : -1;  // imbalanced, overlapping classes
    for (int k = 0; k < d; ++k) x.at<float>(i, k) = noise(rng) + (y[i] > 0 ? 1.2f : -0.4f) * (k + 1) / d;
  }
  for (const auto [cp, cn] : {std::pair{1.0, 1.0}, std::pair{0.1, 0.01}, std::pair{5.0, 1.0}}) {
    SvmTrainOptions o;
    o.c_positive = static_cast<float>(cp);
    o.c_negative = static_cast<float>(cn);
    o.epsilon = 1e-5f;
    const LinearModel dcd = train_linear_svm(x, y, o);
    const LinearModel ref = subgradient(x, y, cp, cn, 20000);
    const double a = objective(dcd, x, y, cp, cn), b = objective(ref, x, y, cp, cn);
    INFO("C+ " << cp << " C- " << cn << ": dcd " << a << ", subgradient " << b);
    REQUIRE(a <= b * (1 + 1e-3) + 1e-6);  // never worse than the reference
    REQUIRE(a >= b * (1 - 2e-2));         // and the reference gets close: both found the optimum
  }
}

TEST_CASE("train_linear_svm separates separable data", "[classifiers][svm_trainer]") {
  cv::Mat x = (cv::Mat_<float>(4, 2) << 2, 2, 3, 1, -2, -1, -1, -3);
  const std::vector<int> y = {1, 1, -1, -1};
  SvmTrainOptions o;
  o.c_positive = o.c_negative = 10.f;
  const LinearModel m = train_linear_svm(x, y, o);
  for (int i = 0; i < 4; ++i) REQUIRE(y[i] * m.score(x.ptr<float>(i)) >= 0.99f);
  REQUIRE_THROWS_AS(train_linear_svm(x, {1, 1, 1, 1}, o), std::invalid_argument);
}
