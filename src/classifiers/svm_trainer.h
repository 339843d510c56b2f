// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Binary linear SVM training (dlib's dual coordinate descent solver behind a dlib-free interface).
#pragma once

#include <vector>

#include <opencv2/core/mat.hpp>

namespace detlab {

/// f(x) = w . x + b; f > 0 is the positive class.
struct LinearModel {
  std::vector<float> w;
  float b = 0.f;
  float score(const float* x) const;
};

struct SvmTrainOptions {
  float c_positive = 0.01f;  // C of the positive samples' hinge losses
  float c_negative = 0.01f;  // C of the negative samples' hinge losses
  float epsilon = 1e-3f;     // dual coordinate descent stopping tolerance (dlib's default is 0.1, too loose here)
  int max_iterations = 10000;
};

/// L2-regularised hinge-loss SVM with a (regularised) bias: min 0.5 |w|^2 + sum_i C_{y_i} max(0, 1 - y_i f(x_i))
/// (dlib svm_c_linear_dcd_trainer; Hsieh et al. 2008).
/// requires: x N x D CV_32F, labels.size() == N with entries +1 / -1, at least one of each.
/// ensures:  w.size() == D.
LinearModel train_linear_svm(const cv::Mat& x, const std::vector<int>& labels, const SvmTrainOptions& opts);

}  // namespace detlab
