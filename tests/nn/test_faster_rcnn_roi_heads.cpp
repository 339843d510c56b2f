// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoI heads of Faster R-CNN: level mapper and MultiScaleRoIAlign vs per-level roi_align, RoI max pooling, RoI
// sampling by hand (Fast R-CNN's [0.1, 0.5) background), the multi-task loss by hand, post-processing.
#include <catch2/catch.hpp>

#include <cmath>

#include "nn/heads/roi_heads.h"
#include "nn/ops/roi_align.h"
#include "nn/ops/roi_pool.h"
#include "catch_torch.h"

using namespace detlab;

TEST_CASE("level mapper: k = floor(4 + log2(sqrt(area) / 224) + 1e-6), clamped", "[nn][roi_heads]") {
  const torch::Tensor boxes = torch::tensor({{0.f, 0.f, 224.f, 224.f},
                                             {0.f, 0.f, 112.f, 112.f},
                                             {0.f, 0.f, 448.f, 448.f},
                                             {0.f, 0.f, 111.f, 111.f},   // just under 112: level 2
                                             {0.f, 0.f, 10.f, 10.f},     // tiny: clamped to k_min
                                             {0.f, 0.f, 2000.f, 2000.f}}); // huge: clamped to k_max
  const torch::Tensor lv = map_levels(boxes, 2, 5);
  CHECK(torch::equal(lv, torch::tensor(std::vector<int64_t>{2, 1, 3, 0, 0, 3})));
  CHECK(infer_scale(200, 800) == 0.25);
  CHECK(infer_scale(13, 800) == std::pow(2.0, -6));  // log2(0.01625) = -5.94 -> -6
  CHECK(infer_scale(100, 799) == 0.125);
}

TEST_CASE("MultiScaleRoIAlign pools each box from its level with that level's scale", "[nn][roi_heads]") {
  torch::manual_seed(0);
  MultiScaleRoiAlignOptions o;
  o.featmap_names = {"a", "b"};
  MultiScaleRoiAlign pool(o, 3);
  const std::map<std::string, torch::Tensor> feats = {{"a", torch::randn({2, 3, 32, 40})},
                                                      {"b", torch::randn({2, 3, 16, 20})}};
  // Image sizes 128 x 160 (and a smaller one): scales 1/4 and 1/8, levels k_min = 2, k_max = 3.
  const std::vector<ImageSize> sizes = {{128, 160}, {100, 150}};
  const std::vector<torch::Tensor> boxes = {torch::tensor({{0.f, 0.f, 40.f, 40.f}, {10.f, 10.f, 150.f, 120.f}}),
                                            torch::tensor({{5.f, 5.f, 30.f, 90.f}})};
  const torch::Tensor out = pool.forward(feats, torch::zeros({2, 3, 128, 160}), boxes, sizes);
  REQUIRE(out.sizes() == torch::IntArrayRef({3, 3, 7, 7}));
  const torch::Tensor rois = boxes_to_rois(boxes);
  const torch::Tensor level = map_levels(rois.slice(1, 1, 5), 2, 3);
  CHECK(torch::equal(level, torch::tensor(std::vector<int64_t>{0, 1, 0})));
  for (int64_t i = 0; i < 3; ++i) {
    const bool coarse = level[i].item<int64_t>() == 1;
    RoiAlignOptions ra;
    ra.spatial_scale = coarse ? 0.125 : 0.25;
    ra.sampling_ratio = 2;
    const torch::Tensor ref = roi_align_generic(feats.at(coarse ? "b" : "a"), rois.slice(0, i, i + 1), ra);
    CHECK((out[i] - ref[0]).abs().max().item<float>() < 1e-5f);
  }
  CHECK(pool.output_shape() == std::vector<int64_t>{3, 7, 7});
}

TEST_CASE("RoI max pooling uses 1 / stride as the spatial scale", "[nn][roi_heads]") {
  torch::manual_seed(1);
  RoiMaxPoolOptions o;
  o.featmap = "conv5";
  o.stride = 16;
  RoiMaxPool pool(o, 4);
  const torch::Tensor map = torch::randn({1, 4, 10, 12});
  const torch::Tensor boxes = torch::tensor({{16.f, 16.f, 120.f, 100.f}});
  const torch::Tensor out = pool.forward({{"conv5", map}}, torch::zeros({1, 3, 160, 192}), {boxes}, {{160, 192}});
  RoiPoolOptions rp;
  rp.spatial_scale = 1.0 / 16;
  CHECK(torch::equal(out, roi_pool_generic(map, boxes_to_rois({boxes}), rp)));
}

namespace {

RoIHeads tiny_heads(const RoiHeadsOptions& o, int64_t classes = 3) {
  MultiScaleRoiAlignOptions p;
  p.featmap_names = {"a"};
  p.output_size = 2;
  TwoMlpHeadOptions h;
  h.in_features = 2 * 2 * 2;
  h.representation_size = 8;
  FastRcnnPredictorOptions pr;
  pr.in_channels = 8;
  pr.num_classes = classes;
  return RoIHeads(std::make_shared<MultiScaleRoiAlign>(p, 2), TwoMlpHead(h), FastRcnnPredictor(pr), o);
}

}  // namespace

TEST_CASE("RoI sampling: IoU >= 0.5 foreground, 0.1 <= IoU < 0.5 background, below ignored, ground truth added",
          "[nn][roi_heads]") {
  RoiHeadsOptions o;
  o.bg_iou_lo = 0.1;  // Fast R-CNN's lower background bound
  o.batch_size_per_image = 100;
  RoIHeads heads = tiny_heads(o);
  const torch::Tensor gt = torch::tensor({{0.f, 0.f, 10.f, 10.f}});
  const torch::Tensor props = torch::tensor({{0.f, 0.f, 10.f, 8.f},     // IoU 0.8  -> class 2
                                             {0.f, 0.f, 10.f, 3.f},     // IoU 0.3  -> background
                                             {0.f, 9.5f, 10.f, 20.f},   // IoU 0.05 -> ignored
                                             {50.f, 50.f, 60.f, 60.f}}); // IoU 0    -> ignored
  const RoiSamples s = heads->select_training_samples({props}, {NetTarget{gt, torch::tensor({int64_t{2}})}});
  REQUIRE(s.labels[0].numel() == 3);  // two proposals and the ground truth itself
  std::vector<int64_t> labels(s.labels[0].data_ptr<int64_t>(), s.labels[0].data_ptr<int64_t>() + 3);
  std::sort(labels.begin(), labels.end());
  CHECK(labels == std::vector<int64_t>{0, 2, 2});
  // The ground truth's regression target is zero; the 10 x 8 proposal's dh is 5 * log(10 / 8).
  for (int64_t i = 0; i < 3; ++i) {
    if (s.labels[0][i].item<int64_t>() != 2) continue;
    const float h = (s.proposals[0][i][3] - s.proposals[0][i][1]).item<float>();
    const float expected_dh = h == 10.f ? 0.f : 5.f * std::log(10.f / 8.f);
    CHECK(s.regression_targets[0][i][3].item<float>() == Approx(expected_dh).margin(1e-6));
  }
  // Without the lower bound (torchvision), everything below 0.5 is background.
  o.bg_iou_lo = 0.0;
  const RoiSamples t = tiny_heads(o)->select_training_samples({props}, {NetTarget{gt, torch::tensor({int64_t{2}})}});
  CHECK(t.labels[0].numel() == 5);
}

TEST_CASE("Fast R-CNN loss: cross-entropy over all RoIs, smooth L1 on the true class's deltas / #RoIs",
          "[nn][roi_heads]") {
  const torch::Tensor logits = torch::tensor({{2.f, 0.f, 0.f}, {0.f, 1.f, 0.f}});
  torch::Tensor deltas = torch::zeros({2, 12});
  deltas[1][4] = 0.5f;  // class 1, dx
  deltas[1][8] = 9.f;   // class 2: not the RoI's class, must not count
  const torch::Tensor labels = torch::tensor({int64_t{0}, int64_t{1}});
  const torch::Tensor targets = torch::tensor({{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 1.f}});
  const auto l = fast_rcnn_loss(logits, deltas, {labels}, {targets}, 1.0 / 9.0);
  const double ce = 0.5 * (-std::log(std::exp(2.0) / (std::exp(2.0) + 2.0)) - std::log(std::exp(1.0) / (std::exp(1.0) + 2.0)));
  CHECK(l.at("loss_classifier").item<double>() == Approx(ce).epsilon(1e-6));
  // |0.5| and |1| are both >= beta = 1/9: (0.5 - beta / 2) + (1 - beta / 2), divided by 2 RoIs.
  CHECK(l.at("loss_box_reg").item<double>() == Approx((1.5 - 1.0 / 9.0) / 2.0).epsilon(1e-6));
  const auto no_box = fast_rcnn_loss(logits, torch::Tensor(), {labels}, {targets});
  CHECK(no_box.size() == 1);
}

TEST_CASE("RoI heads post-processing: background dropped, threshold, per-class NMS, top-k", "[nn][roi_heads]") {
  RoiHeadsOptions o;
  o.score_thresh = 0.2;
  o.detections_per_img = 2;
  RoIHeads heads = tiny_heads(o);
  // Three identical proposals: class 1 wins twice (NMS keeps the best), class 2 once; background excluded.
  const torch::Tensor props = torch::tensor({{10.f, 10.f, 30.f, 30.f}, {10.f, 10.f, 30.f, 30.f}, {10.f, 10.f, 30.f, 30.f}});
  const torch::Tensor logits = torch::log(torch::tensor({{0.1f, 0.8f, 0.1f}, {0.2f, 0.7f, 0.1f}, {0.1f, 0.3f, 0.6f}}));
  const auto d = heads->postprocess(logits, torch::zeros({3, 12}), {props}, {{40, 40}});
  REQUIRE(d[0].scores.numel() == 2);
  CHECK(d[0].scores[0].item<float>() == Approx(0.8f));
  CHECK(d[0].labels[0].item<int64_t>() == 1);
  CHECK(d[0].scores[1].item<float>() == Approx(0.6f));
  CHECK(d[0].labels[1].item<int64_t>() == 2);
  CHECK(torch::allclose(d[0].boxes[0], props[0]));
}
