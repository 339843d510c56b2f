// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// fit_ridge against the normal equations solved naively (Gaussian elimination, explicit unpenalised bias).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "classifiers/box_regression.h"

using namespace detlab;

namespace {

/// Solves min |[X 1] theta - y|^2 + lambda |theta_without_bias|^2 by Gaussian elimination on the normal
/// equations of the augmented design (bias column last, not penalised).
std::vector<double> naive_ridge(const cv::Mat& x, const cv::Mat& y, int col, double lambda) {
  const int d = x.cols + 1;
  std::vector<std::vector<double>> a(d, std::vector<double>(d + 1, 0.0));
  for (int i = 0; i < x.rows; ++i) {
    std::vector<double> z(d, 1.0);
    for (int k = 0; k < x.cols; ++k) z[k] = x.at<float>(i, k);
    for (int r = 0; r < d; ++r) {
      for (int c = 0; c < d; ++c) a[r][c] += z[r] * z[c];
      a[r][d] += z[r] * y.at<float>(i, col);
    }
  }
  for (int k = 0; k < x.cols; ++k) a[k][k] += lambda;
  for (int p = 0; p < d; ++p) {
    int piv = p;
    for (int r = p + 1; r < d; ++r)
      if (std::fabs(a[r][p]) > std::fabs(a[piv][p])) piv = r;
    std::swap(a[p], a[piv]);
    for (int r = 0; r < d; ++r) {
      if (r == p) continue;
      const double f = a[r][p] / a[p][p];
      for (int c = p; c <= d; ++c) a[r][c] -= f * a[p][c];
    }
  }
  std::vector<double> theta(d);
  for (int r = 0; r < d; ++r) theta[r] = a[r][d] / a[r][r];
  return theta;
}

}  // namespace

TEST_CASE("fit_ridge equals the naive normal-equation solution", "[classifiers][box_regression]") {
  std::mt19937 rng(7767517);
  std::normal_distribution<float> g(0.f, 1.f);
  const int n = 40, d = 5;
  cv::Mat x(n, d, CV_32F), y(n, 4, CV_32F);
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < d; ++k) x.at<float>(i, k) = g(rng) + 3.f;  // off-centre: the bias matters
    for (int q = 0; q < 4; ++q) y.at<float>(i, q) = 0.3f * x.at<float>(i, q) - 0.1f * x.at<float>(i, 4) + 0.5f * q + 0.05f * g(rng);
  }
  for (float lambda : {0.01f, 1.f, 100.f}) {
    const RidgeRegressor r = fit_ridge(x, y, lambda);
    REQUIRE(r.w.rows == d);
    for (int q = 0; q < 4; ++q) {
      const std::vector<double> t = naive_ridge(x, y, q, lambda);
      for (int k = 0; k < d; ++k) REQUIRE(r.w.at<float>(k, q) == Approx(t[k]).margin(1e-4));
      REQUIRE(r.b.at<float>(0, q) == Approx(t[d]).margin(1e-4));
    }
    const auto p = r.predict(x.ptr<float>(7));
    for (int q = 0; q < 4; ++q) {
      double ref = r.b.at<float>(0, q);
      for (int k = 0; k < d; ++k) ref += x.at<float>(7, k) * r.w.at<float>(k, q);
      REQUIRE(p[q] == Approx(ref).margin(1e-5));
    }
  }
}
