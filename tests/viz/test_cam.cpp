// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// CAM and Grad-CAM: on a GAP + linear network, Grad-CAM of the pooled layer == ReLU(CAM) / (h w).
#include "../train/catch_torch.h"

#include "core/error.h"
#include "nn/classification/classifier_net.h"
#include "viz/cam.h"
#include "viz/classifier_model.h"
#include "viz/grad_cam.h"
#include "viz_test_models.h"

using namespace detlab;

namespace {

void check_identity(ScoreModel& model, const torch::Tensor& x, int64_t target) {
  const Heatmap c = cam(model, x, target);
  GradCamOptions o;
  o.layer = c.layer;
  o.target = target;
  const Heatmap g = grad_cam(model, x, o);
  REQUIRE(c.values.sizes() == g.values.sizes());
  const double hw = static_cast<double>(c.values.numel());
  const torch::Tensor expected = torch::relu(c.values.to(torch::kDouble)) / hw;
  INFO("max |diff| " << (expected - g.values.to(torch::kDouble)).abs().max().item<double>() << ", max "
                     << expected.abs().max().item<double>());
  REQUIRE(expected.abs().max().item<double>() > 0);  // not a vacuous all-zero comparison
  REQUIRE(torch::allclose(g.values.to(torch::kDouble), expected, 1e-4, 1e-7 * expected.abs().max().item<double>()));
  // mean_ij CAM + bias = the score: CAM is the linear layer applied before the pooling.
  const GapLinear* gl = model.gap_linear();
  REQUIRE(c.values.to(torch::kDouble).mean().item<double>() + gl->bias[target].item<double>() ==
          Approx(c.score).epsilon(1e-4).margin(1e-5));
}

}  // namespace

TEST_CASE("CAM equals Grad-CAM on a GAP + linear model (small net, double)", "[viz][cam]") {
  torch::manual_seed(5);
  test::TinyScoreModel model;
  const torch::Tensor x = torch::randn({1, 3, 16, 20}, torch::kDouble);
  for (int64_t t = 0; t < 3; ++t) check_identity(model, x, t);
}

TEST_CASE("CAM equals Grad-CAM on a small_resnet classifier (GAP + linear)", "[viz][cam]") {
  torch::manual_seed(6);
  auto net = make_classifier_net("small_resnet", "", 3);
  TransformOptions t;
  t.min_size = 0;
  ClassifierScoreModel model(net, t, {"a", "b", "background"}, torch::kCPU);
  REQUIRE(model.layers() == std::vector<std::string>{"layer1", "layer2", "layer3", "layer4"});
  REQUIRE(model.gap_linear()->layer == "layer4");
  const torch::Tensor x = torch::randn({1, 3, 96, 128});
  for (int64_t k = 0; k < 3; ++k) check_identity(model, x, k);
}

TEST_CASE("Grad-CAM: any layer, default target is the best score, CAM needs GAP + linear", "[viz][grad_cam]") {
  torch::manual_seed(7);
  test::TinyScoreModel model;
  const torch::Tensor x = torch::randn({1, 3, 12, 12}, torch::kDouble);
  GradCamOptions o;
  o.layer = "conv1";
  const Heatmap g = grad_cam(model, x, o);
  REQUIRE(g.values.sizes() == torch::IntArrayRef({12, 12}));
  REQUIRE(g.values.min().item<float>() >= 0);
  torch::NoGradGuard no_grad;
  REQUIRE(g.target == model.forward(x, nullptr)[0].argmax().item<int64_t>());
  o.layer = "conv9";
  REQUIRE_THROWS_AS(grad_cam(model, x, o), InputError);
  test::RegionMeanModel plain(0, 2, 0, 2);
  REQUIRE_THROWS_AS(cam(plain, torch::zeros({1, 3, 4, 4}), 0), InputError);
}
