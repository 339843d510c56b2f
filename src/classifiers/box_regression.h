// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Per-class ridge box regression on region features (R-CNN, Girshick et al. 2014, appendix C).
#pragma once

#include <array>

#include <opencv2/core/mat.hpp>

namespace detlab {

struct BoxRegressionOptions {
  bool enabled = false;
  float lambda = 1000.f;  // ridge penalty; R-CNN used 1000 on pool5 features
  float min_iou = 0.6f;   // R-CNN trains on proposals overlapping a ground truth by at least 0.6
  int max_samples = 20000;  // per class, a random subset above this (keeps the normal equations small)
};

/// deltas = x W + b (x a row of D features, deltas the 4 R-CNN targets of pipeline/box_coder.h).
struct RidgeRegressor {
  cv::Mat w;  // D x 4 CV_32F
  cv::Mat b;  // 1 x 4 CV_32F
  bool empty() const { return w.empty(); }
  /// requires: x points to w.rows floats.
  std::array<float, 4> predict(const float* x) const;
};

/// Minimises |X W + 1 b - Y|^2 + lambda |W|^2 (the bias is not penalised): centre X and Y, solve
/// (Xc^T Xc + lambda I) W = Xc^T Yc by Cholesky, b = mean(Y) - mean(X) W.
/// requires: X N x D CV_32F, Y N x 4 CV_32F, N >= 1, lambda > 0.
RidgeRegressor fit_ridge(const cv::Mat& x, const cv::Mat& y, float lambda);

}  // namespace detlab
