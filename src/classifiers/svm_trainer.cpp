// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// dlib svm_c_linear_dcd_trainer behind train_linear_svm() (the only file that instantiates it).
#include "classifiers/svm_trainer.h"

#include <dlib/svm/svm_c_linear_dcd_trainer.h>

#include "core/error.h"

namespace detlab {

float LinearModel::score(const float* x) const {
  double s = b;
  for (size_t i = 0; i < w.size(); ++i) s += static_cast<double>(w[i]) * x[i];
  return static_cast<float>(s);
}

LinearModel train_linear_svm(const cv::Mat& x, const std::vector<int>& labels, const SvmTrainOptions& opts) {
  DETLAB_REQUIRE(x.type() == CV_32F && x.rows == static_cast<int>(labels.size()), "x must be N x D CV_32F",
                 x.rows, labels.size());
  int pos = 0, neg = 0;
  for (int y : labels) {
    DETLAB_REQUIRE(y == 1 || y == -1, "labels must be +1 or -1", y);
    (y > 0 ? pos : neg)++;
  }
  DETLAB_REQUIRE(pos > 0 && neg > 0, "need positive and negative samples", pos, neg);
  using Sample = dlib::matrix<float, 0, 1>;
  std::vector<Sample> samples(x.rows);
  std::vector<double> y(x.rows);
  for (int i = 0; i < x.rows; ++i) {
    samples[i].set_size(x.cols);
    std::copy(x.ptr<float>(i), x.ptr<float>(i) + x.cols, &samples[i](0));
    y[i] = labels[i];
  }
  dlib::svm_c_linear_dcd_trainer<dlib::linear_kernel<Sample>> trainer;
  trainer.set_c_class1(opts.c_positive);
  trainer.set_c_class2(opts.c_negative);
  trainer.set_epsilon(opts.epsilon);
  trainer.set_max_iterations(opts.max_iterations);
  trainer.include_bias(true);
  const auto df = trainer.train(samples, y);
  LinearModel m;
  const Sample& w = df.basis_vectors(0);
  m.w.assign(&w(0), &w(0) + w.size());
  m.b = static_cast<float>(-df.b);  // dlib's decision function is w . x - b
  return m;
}

}  // namespace detlab
