// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RPN head and RegionProposalNetwork: key names, anchor labelling by hand, the proposal layer against a naive
// reference, train / test top-n, losses that train.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>

#include <torch/optim/sgd.h>

#include "nn/heads/rpn.h"
#include "nn/modeling/box_coder.h"
#include "nn/weights/state_dict.h"
#include "catch_torch.h"

using namespace detlab;

namespace {

RpnOptions small_rpn(int64_t channels = 8) {
  RpnOptions o;
  o.in_channels = channels;
  o.anchors = fpn_rpn_anchors({16, 32}, {0.5, 1.0, 2.0});
  return o;
}

/// Greedy NMS, O(n^2), boxes sorted by score already: the textbook algorithm.
std::vector<int64_t> naive_nms(const std::vector<std::array<float, 4>>& b, double thresh) {
  std::vector<int64_t> keep;
  auto area = [](const std::array<float, 4>& x) { return (x[2] - x[0]) * (x[3] - x[1]); };
  for (size_t i = 0; i < b.size(); ++i) {
    bool ok = true;
    for (int64_t k : keep) {
      const auto& a = b[static_cast<size_t>(k)];
      const float iw = std::max(0.f, std::min(a[2], b[i][2]) - std::max(a[0], b[i][0]));
      const float ih = std::max(0.f, std::min(a[3], b[i][3]) - std::max(a[1], b[i][1]));
      const float inter = iw * ih;
      if (inter / (area(a) + area(b[i]) - inter) > thresh) ok = false;
    }
    if (ok) keep.push_back(static_cast<int64_t>(i));
  }
  return keep;
}

}  // namespace

TEST_CASE("RPN head: torchvision's key names and per-level output shapes", "[nn][rpn]") {
  RpnHeadOptions o;
  o.in_channels = 8;
  o.num_anchors = 3;
  RpnHead head(o);
  const StateDict sd = module_state_dict(*head);
  std::vector<std::string> keys;
  for (const auto& kv : sd) keys.push_back(kv.first);
  CHECK(keys == std::vector<std::string>{"bbox_pred.bias", "bbox_pred.weight", "cls_logits.bias", "cls_logits.weight",
                                         "conv.0.0.bias", "conv.0.0.weight"});
  CHECK(sd.at("cls_logits.bias").abs().max().item<float>() == 0.f);  // torchvision initialises biases to 0
  auto [logits, deltas] = head->forward({torch::randn({2, 8, 10, 12}), torch::randn({2, 8, 5, 6})});
  REQUIRE(logits.size() == 2);
  CHECK(logits[0].sizes() == torch::IntArrayRef({2, 3, 10, 12}));
  CHECK(deltas[1].sizes() == torch::IntArrayRef({2, 12, 5, 6}));
}

TEST_CASE("RPN anchor labelling: IoU >= 0.7 foreground, < 0.3 background, each object's best anchor", "[nn][rpn]") {
  RpnOptions o;
  o.in_channels = 4;
  o.anchors = fpn_rpn_anchors({16}, {1.0});  // one 16 x 16 anchor per location, stride 16: [-8, -8, 8, 8] + 16 (x, y)
  RegionProposalNetwork rpn(o);
  const torch::Tensor images = torch::zeros({1, 3, 64, 64});
  const auto anchors = rpn->anchors(images, {torch::zeros({1, 4, 4, 4})});
  REQUIRE(anchors[0].size(0) == 16);
  CHECK(torch::equal(anchors[0][5], torch::tensor({8.f, 8.f, 24.f, 24.f})));  // row 1, column 1
  // Object A is anchor 5 exactly; object B overlaps anchor 10 ([24, 24, 40, 40]) by IoU 0.39 only: its best
  // anchor, so a low-quality match (Ren et al. 2015, section 3.1.2).
  const NetTarget t{torch::tensor({{8.f, 8.f, 24.f, 24.f}, {28.f, 28.f, 44.f, 44.f}}), torch::tensor({int64_t{1}, int64_t{1}})};
  std::vector<torch::Tensor> matched;
  const torch::Tensor labels = rpn->label_anchors(anchors, {t}, &matched)[0];
  CHECK(labels[5].item<float>() == 1.f);
  CHECK(labels[10].item<float>() == 1.f);
  CHECK(torch::equal(matched[0][10], torch::tensor({28.f, 28.f, 44.f, 44.f})));
  CHECK(labels[0].item<float>() == 0.f);   // [-8, -8, 8, 8]: touches A at a corner, IoU 0 -> background
  CHECK(labels[15].item<float>() == 0.f);  // far from both
  // Anchor 6 ([24, 8, 40, 24]) touches A at an edge (IoU 0) and B by IoU 0.0 -> background; anchor 11
  // ([40, 24, 56, 40]) overlaps B by 4 x 12 px: IoU 0.1 -> background. Nothing falls between 0.3 and 0.7.
  CHECK(labels[6].item<float>() == 0.f);
  CHECK(labels[11].item<float>() == 0.f);
  // An image without objects: every anchor is background.
  const torch::Tensor empty = rpn->label_anchors(anchors, {NetTarget{torch::zeros({0, 4}), torch::zeros({0}, torch::kLong)}}, &matched)[0];
  CHECK(empty.eq(0).all().item<bool>());
}

TEST_CASE("RPN proposal layer equals a naive per-level top-k, clip, NMS reference", "[nn][rpn]") {
  torch::manual_seed(3);
  RpnOptions o = small_rpn();
  o.pre_nms_top_n_test = 40;
  o.post_nms_top_n_test = 30;
  o.nms_thresh = 0.6;
  RegionProposalNetwork rpn(o);
  {
    torch::NoGradGuard g;  // spread the deltas so that clipping and NMS have work to do
    rpn->head->named_parameters()["bbox_pred.weight"].normal_(0, 0.3);
    rpn->head->named_parameters()["cls_logits.weight"].normal_(0, 0.3);
  }
  rpn->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::zeros({2, 3, 64, 96});
  const std::vector<torch::Tensor> feats = {torch::randn({2, 8, 8, 12}), torch::randn({2, 8, 4, 6})};
  const std::vector<ImageSize> sizes = {{64, 96}, {50, 70}};
  const RpnOutput out = rpn->forward(images, feats, sizes);

  // Reference: the same head outputs and anchors, each step written out with loops.
  auto [logits, deltas] = rpn->head->forward(feats);
  const auto anchors = rpn->anchors(images, feats);
  const BoxCoder coder;
  for (int64_t i = 0; i < 2; ++i) {
    struct Cand {
      float score;
      int level;
      std::array<float, 4> box;
    };
    std::vector<Cand> kept;
    int64_t offset = 0;
    for (int l = 0; l < 2; ++l) {
      // (A, H, W) logits -> location-major (H, W, A) order, as the anchors are laid out.
      const torch::Tensor lg = logits[l][i].permute({1, 2, 0}).reshape({-1});
      const torch::Tensor dl = deltas[l][i].view({-1, 4, logits[l].size(2), logits[l].size(3)}).permute({2, 3, 0, 1}).reshape({-1, 4});
      const int64_t n = lg.size(0);
      const torch::Tensor boxes = coder.decode_single(dl, anchors[i].slice(0, offset, offset + n));
      std::vector<int64_t> order(static_cast<size_t>(n));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return lg[a].item<float>() > lg[b].item<float>(); });
      order.resize(std::min<size_t>(order.size(), 40));
      for (int64_t k : order) {
        std::array<float, 4> b{};
        for (int c = 0; c < 4; ++c) b[c] = boxes[k][c].item<float>();
        b[0] = std::clamp(b[0], 0.f, float(sizes[i][1]));
        b[2] = std::clamp(b[2], 0.f, float(sizes[i][1]));
        b[1] = std::clamp(b[1], 0.f, float(sizes[i][0]));
        b[3] = std::clamp(b[3], 0.f, float(sizes[i][0]));
        if (b[2] - b[0] < 1e-3f || b[3] - b[1] < 1e-3f) continue;
        kept.push_back({torch::sigmoid(lg[k]).item<float>(), l, b});
      }
      offset += n;
    }
    std::stable_sort(kept.begin(), kept.end(), [](const Cand& a, const Cand& b) { return a.score > b.score; });
    std::vector<std::array<float, 4>> result;
    for (int l = 0; l < 2; ++l) {  // NMS within each level, then merged by score
      std::vector<std::array<float, 4>> level_boxes;
      std::vector<float> level_scores;
      for (const Cand& c : kept)
        if (c.level == l) level_boxes.push_back(c.box), level_scores.push_back(c.score);
      for (int64_t k : naive_nms(level_boxes, 0.6)) result.push_back(level_boxes[k]);
    }
    INFO("image " << i);
    REQUIRE(out.boxes[i].size(0) == std::min<int64_t>(30, static_cast<int64_t>(result.size())));
    // Same set of boxes (the merged order is by score; compare as sets).
    for (int64_t k = 0; k < out.boxes[i].size(0); ++k) {
      bool found = false;
      for (const auto& b : result)
        found = found || (torch::tensor({b[0], b[1], b[2], b[3]}) - out.boxes[i][k]).abs().max().item<float>() < 1e-4f;
      CHECK(found);
    }
    CHECK((out.scores[i].slice(0, 1) <= out.scores[i].slice(0, 0, -1)).all().item<bool>());
  }
}

TEST_CASE("RPN keeps the train top-n in training mode and the test top-n in eval mode", "[nn][rpn]") {
  torch::manual_seed(1);
  RpnOptions o = small_rpn();
  o.post_nms_top_n_train = 7;
  o.post_nms_top_n_test = 3;
  o.nms_thresh = 1.0;  // nothing suppressed: the counts are the top-n values
  RegionProposalNetwork rpn(o);
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> feats = {torch::randn({1, 8, 8, 8}), torch::randn({1, 8, 4, 4})};
  rpn->train();
  CHECK(rpn->forward(torch::zeros({1, 3, 64, 64}), feats, {{64, 64}}).boxes[0].size(0) == 7);
  rpn->eval();
  CHECK(rpn->forward(torch::zeros({1, 3, 64, 64}), feats, {{64, 64}}).boxes[0].size(0) == 3);
}

TEST_CASE("RPN losses: torchvision's keys, gradients to the head, and they decrease under SGD", "[nn][rpn]") {
  torch::manual_seed(0);
  RegionProposalNetwork rpn(small_rpn());
  rpn->train();
  const std::vector<torch::Tensor> feats = {torch::randn({1, 8, 8, 8}), torch::randn({1, 8, 4, 4})};
  const std::vector<NetTarget> targets = {{torch::tensor({{10.f, 12.f, 30.f, 40.f}, {36.f, 30.f, 60.f, 60.f}}),
                                           torch::tensor({int64_t{1}, int64_t{1}})}};
  torch::optim::SGD sgd(rpn->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  double first = 0, last = 0;
  for (int it = 0; it < 40; ++it) {
    const RpnOutput out = rpn->forward(torch::zeros({1, 3, 64, 64}), feats, {{64, 64}}, &targets);
    REQUIRE(out.losses.size() == 2);
    const torch::Tensor total = out.losses.at("loss_objectness") + out.losses.at("loss_rpn_box_reg");
    if (it == 0) first = total.item<double>();
    last = total.item<double>();
    sgd.zero_grad();
    total.backward();
    if (it == 0) CHECK(rpn->head->named_parameters()["cls_logits.weight"].grad().abs().sum().item<double>() > 0);
    sgd.step();
  }
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.5 * first);
}
