// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SSD / SSDlite: default boxes, matching, loss, post-processing, and parity with torchvision's ssd300_vgg16 and
// ssdlite320_mobilenet_v3_large (same state_dict, same maps, head outputs, detections and losses).
#include <catch2/catch.hpp>

#include <torch/types.h>

#include "nn/backbones/make_backbone.h"
#include "nn/backbones/ssd_mobilenet.h"
#include "nn/backbones/ssd_vgg.h"
#include "nn/detection/ssd.h"
#include "test_ssd_retinanet_parity.h"
#include "catch_torch.h"

using namespace detlab;

namespace {

std::shared_ptr<Ssd> ssd300(int64_t classes) {
  return std::make_shared<Ssd>(std::make_shared<SsdVgg>(ssd300_vgg16_extractor_options()), ssd300_options(classes));
}

std::shared_ptr<Ssd> ssdlite320(int64_t classes) {
  return std::make_shared<Ssd>(std::make_shared<SsdLiteMobileNet>(ssdlite320_mobilenet_v3_large_extractor_options()),
                               ssdlite320_options(classes));
}

// Loads the fixture strictly, runs the network on torchvision's transformed input and compares every stage.
void check_ssd_parity(Ssd& model, const std::string& fixture) {
  const auto dir = test::tv_fixture(fixture);
  if (dir.empty()) return;  // skipped (DETLAB_SKIP_TV_PARITY=1), reported by tv_fixture
  const auto state = test::load_tensors(dir / "state_dict.pt");
  test::require_same_keys(model, state);
  REQUIRE(load_state_dict(model, state).ok());
  const auto in = test::load_tensors(dir / "inputs.pt");
  const auto expected = test::load_tensors(dir / "outputs.pt");
  model.eval();
  torch::NoGradGuard no_grad;
  const Ssd::Outputs out = model.forward(in.at("images"));
  for (size_t k = 0; k < out.features.size(); ++k) {
    const std::string name = "features." + std::to_string(k);
    test::require_parity(name, out.features[k], expected.at(name));
  }
  test::require_parity("cls_logits", out.head.cls_logits, expected.at("cls_logits"));
  test::require_parity("bbox_regression", out.head.bbox_regression, expected.at("bbox_regression"));
  CHECK(test::max_abs_diff(out.anchors, expected.at("anchors")) == 0.0);  // same float operations

  const ImageSize size{in.at("image_size")[0].item<int64_t>(), in.at("image_size")[1].item<int64_t>()};
  // Post-processing alone on torchvision's head outputs, then the whole network.
  Ssd::Outputs tv_out = out;
  tv_out.head = {expected.at("cls_logits"), expected.at("bbox_regression")};
  const auto iso = model.postprocess(tv_out, {size});
  const auto d_iso =
      test::require_same_detections(iso[0], expected.at("boxes"), expected.at("scores"), expected.at("labels"));
  const auto dets = model.detect(in.at("images"), {size});
  const auto d =
      test::require_same_detections(dets[0], expected.at("boxes"), expected.at("scores"), expected.at("labels") - 1);
  WARN(fixture << ": " << dets[0].scores.size(0) << " detections; max box diff " << d.box << " px, max score diff "
               << d.score << " (post-processing alone: " << d_iso.box << ", " << d_iso.score << ")");

  // The loss on torchvision's head outputs for the fixture's ground truth.
  const torch::Tensor gt = in.at("gt_boxes"), labels = in.at("gt_labels");
  const auto matched = ssd_match(gt, out.anchors, model.options().iou_thresh);
  const auto losses = ssd_loss(expected.at("cls_logits"), expected.at("bbox_regression"), out.anchors, {gt},
                                   {labels}, {matched}, BoxCoder(model.options().box_weights), model.options().loss);
  CHECK(losses.at("bbox_regression").item<double>() ==
        Approx(expected.at("loss_bbox_regression").item<double>()).epsilon(1e-5));
  CHECK(losses.at("classification").item<double>() ==
        Approx(expected.at("loss_classification").item<double>()).epsilon(1e-5));
}

}  // namespace

TEST_CASE("default boxes: a hand-computed map, counts per location", "[nn][ssd]") {
  DefaultBoxOptions o;
  o.aspect_ratios = {{4}};
  o.scales = {0.5, 0.5};  // s' = sqrt(0.5 * 0.5) = 0.5
  DefaultBoxGenerator gen(o);
  REQUIRE(gen.num_anchors_per_location() == std::vector<int64_t>{4});
  // One 1 x 2 map on a 100 (h) x 200 (w) image: centres (50, 50) and (150, 50).
  const torch::Tensor b = gen.boxes({{1, 2}}, {100, 200});
  REQUIRE(b.sizes() == torch::IntArrayRef({8, 4}));
  // (w, h) fractions: (0.5, 0.5) twice, (0.5 * 2, 0.5 / 2) = (1, 0.25), (0.25, 1).
  const torch::Tensor expected = torch::tensor({{0.f, 25.f, 100.f, 75.f},
                                                {0.f, 25.f, 100.f, 75.f},
                                                {-50.f, 37.5f, 150.f, 62.5f},
                                                {25.f, 0.f, 75.f, 100.f},
                                                {100.f, 25.f, 200.f, 75.f},
                                                {100.f, 25.f, 200.f, 75.f},
                                                {50.f, 37.5f, 250.f, 62.5f},
                                                {125.f, 0.f, 175.f, 100.f}});
  CHECK(torch::allclose(b, expected));
  // Scales from min / max: the paper's s_min 0.2 .. s_max 0.9 over 6 maps, plus 1.0.
  DefaultBoxOptions p;
  p.aspect_ratios.assign(6, {2, 3});
  const DefaultBoxGenerator paper(p);
  REQUIRE(paper.scales().size() == 7);
  CHECK(paper.scales()[0] == Approx(0.2));
  CHECK(paper.scales()[1] == Approx(0.34));
  CHECK(paper.scales()[5] == Approx(0.9));
  CHECK(paper.scales()[6] == 1.0);
  CHECK(paper.num_anchors_per_location() == std::vector<int64_t>(6, 6));
}

TEST_CASE("ssd_match: IoU >= 0.5 plus each ground truth's best box, however low", "[nn][ssd]") {
  const torch::Tensor anchors = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {0.f, 0.f, 10.f, 12.f},
                                               {50.f, 50.f, 60.f, 60.f}, {100.f, 100.f, 200.f, 200.f}});
  // gt 0 overlaps anchors 0 (1.0) and 1 (IoU 10/12); gt 1 overlaps nothing above 0.5 but anchor 3 most.
  const torch::Tensor gt = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {100.f, 100.f, 120.f, 120.f}});
  const torch::Tensor m = ssd_match(gt, anchors, 0.5);
  CHECK(torch::equal(m, torch::tensor({0, 0, -1, 1}, torch::kLong)));
  CHECK(torch::equal(ssd_match(torch::zeros({0, 4}), anchors, 0.5), torch::full({4}, -1, torch::kLong)));
}

TEST_CASE("ssd_loss: hand-checked hard-negative mining at 3:1", "[nn][ssd]") {
  // One image, 6 anchors, 2 columns; anchor 0 is the only positive. Negatives ranked by their cross entropy:
  // anchors 5 > 4 > 3 > 2 > 1, so the three hardest (5, 4, 3) count and 1, 2 do not.
  const torch::Tensor anchors = torch::tensor({{0.f, 0.f, 10.f, 10.f}, {20.f, 0.f, 30.f, 10.f}, {40.f, 0.f, 50.f, 10.f},
                                               {60.f, 0.f, 70.f, 10.f}, {80.f, 0.f, 90.f, 10.f},
                                               {100.f, 0.f, 110.f, 10.f}});
  const torch::Tensor logits =
      torch::tensor({{0.f, 1.f}, {0.f, -3.f}, {0.f, -2.f}, {0.f, -1.f}, {0.f, 0.f}, {0.f, 1.f}}).unsqueeze(0);
  const torch::Tensor deltas = torch::zeros({1, 6, 4});
  const torch::Tensor gt = torch::tensor({{0.f, 0.f, 10.f, 10.f}});
  const torch::Tensor matched = ssd_match(gt, anchors, 0.5);
  const auto l = ssd_loss(logits, deltas, anchors, {gt}, {torch::tensor({1}, torch::kLong)}, {matched},
                              BoxCoder({10, 10, 5, 5}));
  auto ce = [](double bg, double fg, int target) {
    const double lse = std::log(std::exp(bg) + std::exp(fg));
    return lse - (target == 0 ? bg : fg);
  };
  const double expected = ce(0, 1, 1) + ce(0, 1, 0) + ce(0, 0, 0) + ce(0, -1, 0);
  CHECK(l.at("classification").item<double>() == Approx(expected).epsilon(1e-6));
  CHECK(l.at("bbox_regression").item<double>() == Approx(0.0).margin(1e-7));  // deltas are the exact encoding
}

TEST_CASE("ssd post-processing: single-pass CPU selection equals torchvision's per-class loop", "[nn][ssd]") {
  torch::manual_seed(3);
  const int64_t a = 500, c = 21;
  const torch::Tensor anchors = [&] {
    const torch::Tensor xy = torch::rand({a, 2}) * 280, wh = torch::rand({a, 2}) * 120 + 4;
    return torch::cat({xy, xy + wh}, 1);
  }();
  for (double thresh : {0.01, 0.2}) {
    for (int64_t topk : {400, 7}) {
      SsdPostprocessOptions o;
      o.score_thresh = thresh;
      o.topk_candidates = topk;
      o.detections_per_img = 50;
      const torch::Tensor logits = torch::randn({2, a, c}) * 3;
      const torch::Tensor deltas = torch::randn({2, a, 4}) * 0.5;
      const BoxCoder coder({10, 10, 5, 5});
      const auto fast = ssd_postprocess(logits, deltas, anchors, {{300, 300}, {250, 280}}, coder, o);
      const auto ref = ssd_postprocess_reference(logits, deltas, anchors, {{300, 300}, {250, 280}}, coder, o);
      for (size_t i = 0; i < 2; ++i) {
        INFO("threshold " << thresh << ", top-k " << topk << ", image " << i);
        REQUIRE(fast[i].scores.size(0) > 0);
        CHECK(torch::equal(fast[i].scores, ref[i].scores));
        CHECK(torch::equal(fast[i].labels, ref[i].labels));
        CHECK(torch::equal(fast[i].boxes, ref[i].boxes));
      }
    }
  }
}

TEST_CASE("ssd300_vgg16 matches torchvision (state_dict, maps, head, detections, loss)", "[nn][ssd][parity]") {
  auto model = ssd300(90);
  CHECK(count_parameters(*model) == 35641826);  // torchvision's ssd300_vgg16 num_params
  check_ssd_parity(*model, "ssd300_vgg16");
}

TEST_CASE("ssdlite320_mobilenet_v3_large matches torchvision (state_dict, maps, head, detections, loss)",
          "[nn][ssd][parity]") {
  auto model = ssdlite320(90);
  CHECK(count_parameters(*model) == 3440060);  // torchvision's ssdlite320_mobilenet_v3_large num_params
  check_ssd_parity(*model, "ssdlite320_mobilenet_v3_large");
}

TEST_CASE("ssd trains: losses fall when fitting one image, gradients reach every parameter", "[nn][ssd]") {
  torch::manual_seed(0);
  SsdVggOptions vo = small_ssd_vgg_extractor_options();
  auto backbone = std::make_shared<SsdVgg>(vo);
  SsdOptions o;
  o.num_classes = 2;
  o.anchors.aspect_ratios.assign(6, {2});
  Ssd model(backbone, o);
  model.train();
  const torch::Tensor images = torch::randn({2, 3, 128, 128});
  const std::vector<NetTarget> targets = {
      {torch::tensor({{10.f, 20.f, 60.f, 90.f}}), torch::tensor({1}, torch::kLong)},
      {torch::tensor({{30.f, 30.f, 100.f, 70.f}, {5.f, 5.f, 25.f, 25.f}}), torch::tensor({0, 1}, torch::kLong)}};
  std::vector<torch::Tensor> params;
  for (auto& p : model.parameters()) params.push_back(p);
  auto total = [&] {
    auto l = model.losses(images, {{128, 128}, {128, 128}}, targets);
    REQUIRE(l.size() == 2);
    return l.at("classification") + l.at("bbox_regression");
  };
  torch::Tensor first = total();
  first.backward();
  for (const auto& kv : model.named_parameters()) {
    INFO(kv.key());
    REQUIRE(kv.value().grad().defined());
  }
  const double start = first.item<double>();
  double last = start;
  for (int it = 0; it < 30; ++it) {
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    torch::Tensor l = total();
    l.backward();
    torch::NoGradGuard g;
    for (auto& p : params) p.add_(p.grad(), -1e-3);
    last = l.item<double>();
  }
  CHECK(std::isfinite(last));
  CHECK(last < 0.7 * start);
}
