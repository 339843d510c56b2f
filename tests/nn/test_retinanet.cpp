// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RetinaNet: anchors, head initialisation, loss, and parity with torchvision's retinanet_resnet50_fpn (same
// state_dict, FPN maps, head outputs, detections, losses).
#include <catch2/catch.hpp>

#include <torch/types.h>

#include <cmath>

#include "nn/backbones/backbone_with_fpn.h"
#include "nn/backbones/make_backbone.h"
#include "nn/backbones/resnet.h"
#include "nn/detection/retinanet.h"
#include "nn/ops/box_iou.h"
#include "test_ssd_retinanet_parity.h"
#include "catch_torch.h"

using namespace detlab;

namespace {

std::shared_ptr<Backbone> resnet_fpn_p6p7(ResNetOptions r) {
  r.num_classes = 0;
  r.out_features = {"layer2", "layer3", "layer4"};  // C3..C5 (torchvision's returned_layers [2, 3, 4])
  FpnOptions f;
  f.extra = FpnOptions::Extra::kP6P7;  // LastLevelP6P7(256, 256): P6 from P5
  return std::make_shared<BackboneWithFpn>(std::make_shared<ResNet>(r), f);
}

}  // namespace

TEST_CASE("retinanet anchors: torchvision's sizes, 9 per location", "[nn][retinanet]") {
  const auto o = retinanet_anchors();
  REQUIRE(o.sizes.size() == 5);
  // torchvision: tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [32, 64, 128, 256, 512])
  CHECK(o.sizes[0] == std::vector<double>{32, 40, 50});
  CHECK(o.sizes[1] == std::vector<double>{64, 80, 101});
  CHECK(o.sizes[2] == std::vector<double>{128, 161, 203});
  CHECK(o.sizes[3] == std::vector<double>{256, 322, 406});
  CHECK(o.sizes[4] == std::vector<double>{512, 645, 812});
  CHECK(AnchorGenerator(o).num_anchors_per_location() == std::vector<int64_t>(5, 9));
  CHECK(AnchorGenerator(retinanet_anchors({32, 64}, 1, {1.0})).num_anchors_per_location() ==
        std::vector<int64_t>{1, 1});
}

TEST_CASE("retinanet head: prior bias pi = 0.01, N(0, 0.01) weights", "[nn][retinanet]") {
  RetinaNetHeadOptions o;
  o.num_classes = 3;
  RetinaNetHead head(o);
  const auto sd = module_state_dict(*head);
  const torch::Tensor bias = sd.at("classification_head.cls_logits.bias");
  REQUIRE(bias.size(0) == 27);
  CHECK(torch::sigmoid(bias).allclose(torch::full({27}, 0.01f)));
  CHECK(sd.at("regression_head.bbox_reg.bias").abs().max().item<float>() == 0.f);
  CHECK(sd.at("classification_head.conv.3.0.weight").std().item<double>() == Approx(0.01).epsilon(0.05));
  // Outputs: N x (H W A) x K per level.
  const auto out = head->forward({torch::randn({2, 256, 4, 6}), torch::randn({2, 256, 2, 3})});
  REQUIRE(out.cls_logits.size() == 2);
  CHECK(out.cls_logits[0].sizes() == torch::IntArrayRef({2, 4 * 6 * 9, 3}));
  CHECK(out.bbox_regression[1].sizes() == torch::IntArrayRef({2, 2 * 3 * 9, 4}));
}

TEST_CASE("retinanet loss: focal loss over non-ignored anchors / #foreground, L1 box loss", "[nn][retinanet]") {
  // 4 anchors, 2 classes: anchor 0 foreground (class 1), 1 background, 2 between thresholds (ignored), 3 fg.
  const torch::Tensor anchors = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {50.f, 50.f, 60.f, 60.f},
                                               {0.f, 0.f, 10.f, 10.f}, {20.f, 20.f, 30.f, 30.f}});
  const torch::Tensor logits = torch::tensor({{-1.f, 2.f}, {0.5f, -0.5f}, {3.f, 3.f}, {1.f, 0.f}}).unsqueeze(0);
  const torch::Tensor deltas = torch::full({1, 4, 4}, 0.1f);
  const NetTarget t{torch::tensor({{0.f, 0.f, 10.f, 10.f}, {20.f, 20.f, 30.f, 30.f}}), torch::tensor({1, 0}, torch::kLong)};
  const torch::Tensor matched = torch::tensor({0, -1, -2, 1}, torch::kLong);
  RetinaNetOptions o;
  o.num_classes = 2;
  const auto l = retinanet_loss(logits, deltas, anchors, {t}, {matched}, BoxCoder(), o);
  auto fl = [](double x, double y) {  // sigmoid focal loss, alpha 0.25, gamma 2
    const double p = 1 / (1 + std::exp(-x));
    const double ce = -(y * std::log(p) + (1 - y) * std::log(1 - p));
    const double pt = y * p + (1 - y) * (1 - p);
    return (y * 0.25 + (1 - y) * 0.75) * ce * std::pow(1 - pt, 2);
  };
  const double cls = (fl(-1, 0) + fl(2, 1) + fl(0.5, 0) + fl(-0.5, 0) + fl(1, 1) + fl(0, 0)) / 2;  // anchor 3: class 0
  CHECK(l.at("classification").item<double>() == Approx(cls).epsilon(1e-5));
  CHECK(l.at("bbox_regression").item<double>() == Approx(2 * 4 * 0.1 / 2).epsilon(1e-5));  // exact encodings are 0
}

TEST_CASE("retinanet_resnet50_fpn matches torchvision (state_dict, FPN, head, detections, loss)",
          "[nn][retinanet][parity]") {
  const auto dir = test::tv_fixture("retinanet_resnet50_fpn");
  if (dir.empty()) return;  // skipped (DETLAB_SKIP_TV_PARITY=1), reported by tv_fixture
  RetinaNetOptions o;
  o.num_classes = 91;  // torchvision's COCO layout: 91 sigmoid columns
  RetinaNet model(resnet_fpn_p6p7(resnet_options(50)), o);
  CHECK(count_parameters(model) == 34068119);  // torchvision's retinanet_resnet50_fpn(weights=None) parameters
  const auto state = test::load_tensors(dir / "state_dict.pt");
  test::require_same_keys(model, state);
  REQUIRE(load_state_dict(model, state).ok());
  const auto in = test::load_tensors(dir / "inputs.pt");
  const auto expected = test::load_tensors(dir / "outputs.pt");
  model.eval();
  torch::NoGradGuard no_grad;
  const RetinaNet::Outputs out = model.forward(in.at("images"));
  REQUIRE(out.features.size() == 5);
  for (size_t k = 0; k < out.features.size(); ++k) {
    const std::string name = "features." + std::to_string(k);
    test::require_parity(name, out.features[k], expected.at(name));
  }
  test::require_parity("cls_logits", torch::cat(out.head.cls_logits, 1), expected.at("cls_logits"));
  test::require_parity("bbox_regression", torch::cat(out.head.bbox_regression, 1), expected.at("bbox_regression"));
  CHECK(test::max_abs_diff(torch::cat(out.anchors), expected.at("anchors")) == 0.0);

  const ImageSize size{in.at("image_size")[0].item<int64_t>(), in.at("image_size")[1].item<int64_t>()};
  RetinaNet::Outputs tv_out = out;
  std::vector<int64_t> per_level;
  for (const auto& a : out.anchors) per_level.push_back(a.size(0));
  tv_out.head.cls_logits = expected.at("cls_logits").split_with_sizes(per_level, 1);
  tv_out.head.bbox_regression = expected.at("bbox_regression").split_with_sizes(per_level, 1);
  const auto iso = model.postprocess(tv_out, {size});
  const auto d_iso =
      test::require_same_detections(iso[0], expected.at("boxes"), expected.at("scores"), expected.at("labels"));
  const auto dets = model.detect(in.at("images"), {size});
  const auto d =
      test::require_same_detections(dets[0], expected.at("boxes"), expected.at("scores"), expected.at("labels"));
  WARN("retinanet_resnet50_fpn: " << dets[0].scores.size(0) << " detections; max box diff " << d.box
                                  << " px, max score diff " << d.score << " (post-processing alone: " << d_iso.box
                                  << ", " << d_iso.score << ")");

  const NetTarget t{in.at("gt_boxes"), in.at("gt_labels")};
  const torch::Tensor anchors = torch::cat(out.anchors);
  const torch::Tensor matched = Matcher(o.matcher)(box_iou(t.boxes, anchors));
  const auto losses = retinanet_loss(expected.at("cls_logits"), expected.at("bbox_regression"), anchors, {t},
                                     {matched}, BoxCoder(o.box_weights), o);
  CHECK(losses.at("bbox_regression").item<double>() ==
        Approx(expected.at("loss_bbox_regression").item<double>()).epsilon(1e-5));
  CHECK(losses.at("classification").item<double>() ==
        Approx(expected.at("loss_classification").item<double>()).epsilon(1e-5));
}

TEST_CASE("retinanet trains: a small model's losses fall on one batch", "[nn][retinanet]") {
  torch::manual_seed(0);
  auto r = small_resnet_options();
  RetinaNetOptions o;
  o.num_classes = 2;
  o.anchors = retinanet_anchors({16, 32, 64, 128, 256});
  o.head_convs = 2;
  auto rr = r;
  rr.num_classes = 0;
  rr.out_features = {"layer2", "layer3", "layer4"};
  FpnOptions f;
  f.extra = FpnOptions::Extra::kP6P7;
  f.out_channels = 64;
  RetinaNet model(std::make_shared<BackboneWithFpn>(std::make_shared<ResNet>(rr), f), o);
  model.train();
  const torch::Tensor images = torch::randn({2, 3, 128, 128});
  const std::vector<NetTarget> targets = {
      {torch::tensor({{10.f, 20.f, 60.f, 90.f}}), torch::tensor({1}, torch::kLong)},
      {torch::zeros({0, 4}), torch::zeros({0}, torch::kLong)}};  // an image without objects is fine
  std::vector<torch::Tensor> params;
  for (auto& p : model.parameters()) params.push_back(p);
  double start = 0, last = 0;
  for (int it = 0; it < 30; ++it) {
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    auto l = model.losses(images, {{128, 128}, {128, 128}}, targets);
    torch::Tensor total = l.at("classification") + l.at("bbox_regression");
    total.backward();
    torch::NoGradGuard g;
    for (auto& p : params)
      if (p.grad().defined()) p.add_(p.grad(), -0.03);
    if (it == 0) start = total.item<double>();
    if (it >= 25) last += total.item<double>() / 5;  // mean of the last 5 (batch-norm statistics make it noisy)
  }
  CHECK(std::isfinite(last));
  CHECK(last < 0.8 * start);  // measured: 0.875 -> 0.62
}
