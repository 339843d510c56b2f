// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Class visualization by gradient ascent: the target score increases monotonically over the first steps.
#include "../train/catch_torch.h"

#include "nn/classification/classifier_net.h"
#include "viz/class_image.h"
#include "viz/classifier_model.h"
#include "viz_test_models.h"

using namespace detlab;

TEST_CASE("gradient ascent increases the target score monotonically over its first steps", "[viz][class_image]") {
  torch::manual_seed(11);
  auto net = make_classifier_net("small_resnet", "", 3);
  TransformOptions t;
  ClassifierScoreModel model(net, t, {"a", "b", "background"}, torch::kCPU);
  const torch::Tensor start = noise_image(64, 64, 0.1, 1, torch::kCPU);
  for (int64_t target = 0; target < 3; ++target) {
    ClassImageOptions o;
    o.target = target;
    o.steps = 10;
    o.lr = 0.01;     // small steps: the first-order model holds
    o.jitter = 0;    // a jittered step optimizes a shifted image; the monotone claim is about plain ascent
    o.blur_every = 0;
    o.l2_decay = 1e-4;
    const ClassImageResult r = class_image(model, start, o);
    REQUIRE(r.scores.size() == 11);
    for (size_t i = 1; i < r.scores.size(); ++i) {
      INFO("target " << target << " step " << i << ": " << r.scores[i - 1] << " -> " << r.scores[i]);
      REQUIRE(r.scores[i] > r.scores[i - 1]);
    }
  }
}

TEST_CASE("class image with every regularizer raises the score and stays a valid image", "[viz][class_image]") {
  torch::manual_seed(12);
  test::TinyScoreModel model;
  model.net_->to(torch::kFloat);
  ClassImageOptions o;
  o.target = 2;
  o.steps = 40;
  const ClassImageResult r = class_image(model, noise_image(32, 32, 0.1, 2, torch::kCPU), o);
  REQUIRE(r.scores.back() > r.scores.front());
  const TransformOptions& t = model.transform();
  for (int c = 0; c < 3; ++c) {
    const torch::Tensor ch = r.image[0][c];
    REQUIRE(ch.min().item<float>() >= -t.mean[c] / t.std[c] - 1e-5f);
    REQUIRE(ch.max().item<float>() <= (1 - t.mean[c]) / t.std[c] + 1e-5f);
  }
  const cv::Mat bgr = to_bgr(r.image, t);
  REQUIRE(bgr.type() == CV_8UC3);
  REQUIRE(bgr.rows == 32);
}

TEST_CASE("gaussian blur keeps constants and the total of a centred impulse", "[viz][class_image]") {
  const torch::Tensor c = torch::full({1, 3, 10, 12}, 2.5);
  REQUIRE(torch::allclose(gaussian_blur(c, 1.0), c, 1e-5, 1e-5));
  torch::Tensor d = torch::zeros({1, 1, 21, 21});
  d[0][0][10][10] = 1;
  const torch::Tensor b = gaussian_blur(d, 1.5);
  REQUIRE(b.sum().item<double>() == Approx(1.0).epsilon(1e-5));
  REQUIRE(b.argmax().item<int64_t>() == 10 * 21 + 10);
}
