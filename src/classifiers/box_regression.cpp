// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Ridge regression for box deltas.
#include "classifiers/box_regression.h"

#include <opencv2/core.hpp>

#include "core/error.h"

namespace detlab {

std::array<float, 4> RidgeRegressor::predict(const float* x) const {
  std::array<float, 4> d{};
  for (int k = 0; k < 4; ++k) {
    double s = b.at<float>(0, k);
    for (int i = 0; i < w.rows; ++i) s += static_cast<double>(x[i]) * w.at<float>(i, k);
    d[k] = static_cast<float>(s);
  }
  return d;
}

RidgeRegressor fit_ridge(const cv::Mat& x, const cv::Mat& y, float lambda) {
  DETLAB_REQUIRE(x.type() == CV_32F && y.type() == CV_32F && x.rows == y.rows && y.cols == 4 && x.rows >= 1,
                 "fit_ridge needs X N x D and Y N x 4 (CV_32F)", x.rows, x.cols, y.rows, y.cols);
  DETLAB_REQUIRE(lambda > 0, "lambda must be positive", lambda);
  cv::Mat xd, yd;
  x.convertTo(xd, CV_64F);
  y.convertTo(yd, CV_64F);
  cv::Mat mx, my;
  cv::reduce(xd, mx, 0, cv::REDUCE_AVG);
  cv::reduce(yd, my, 0, cv::REDUCE_AVG);
  xd -= cv::repeat(mx, xd.rows, 1);
  yd -= cv::repeat(my, yd.rows, 1);
  cv::Mat a = xd.t() * xd + lambda * cv::Mat::eye(xd.cols, xd.cols, CV_64F);
  cv::Mat rhs = xd.t() * yd;
  cv::Mat wd;
  const bool ok = cv::solve(a, rhs, wd, cv::DECOMP_CHOLESKY);
  DETLAB_CHECK(ok, "ridge normal equations are not positive definite", lambda);
  cv::Mat bd = my - mx * wd;
  RidgeRegressor r;
  wd.convertTo(r.w, CV_32F);
  bd.convertTo(r.b, CV_32F);
  return r;
}

}  // namespace detlab
