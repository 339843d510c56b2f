// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of DETR's HungarianMatcher (cost against a per-element formula, assignment against brute force) and
// SetCriterion (hand-computed losses, auxiliary keys, empty targets).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "nn/catch_torch.h"
#include "nn/detr/hungarian_matcher.h"
#include "nn/detr/set_criterion.h"

using namespace detlab;

namespace {

double giou_ref(const float* a, const float* b) {  // cxcywh
  const double ax1 = a[0] - a[2] / 2, ay1 = a[1] - a[3] / 2, ax2 = a[0] + a[2] / 2, ay2 = a[1] + a[3] / 2;
  const double bx1 = b[0] - b[2] / 2, by1 = b[1] - b[3] / 2, bx2 = b[0] + b[2] / 2, by2 = b[1] + b[3] / 2;
  const double iw = std::max(0.0, std::min(ax2, bx2) - std::max(ax1, bx1));
  const double ih = std::max(0.0, std::min(ay2, by2) - std::max(ay1, by1));
  const double inter = iw * ih, uni = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  const double hull = (std::max(ax2, bx2) - std::min(ax1, bx1)) * (std::max(ay2, by2) - std::min(ay1, by1));
  return inter / uni - (hull - uni) / hull;
}

// The hand-computed criterion cases: 3 queries, one target of class 1 at (0.5, 0.5, 0.2, 0.2); query 1 is the
// match (same centre, twice as tall).
torch::Tensor hand_case_boxes() {
  return torch::tensor({0.2f, 0.2f, 0.1f, 0.1f,  //
                        0.5f, 0.5f, 0.2f, 0.4f,  //
                        0.8f, 0.8f, 0.1f, 0.1f})
      .view({1, 1, 3, 4});
}

std::vector<SetTarget> hand_case_targets() {
  return {{torch::tensor({1}, torch::kLong), torch::tensor({{0.5f, 0.5f, 0.2f, 0.2f}})}};
}

SetTarget random_target(int64_t t, int64_t k) {
  const torch::Tensor c = torch::rand({t, 2}) * 0.6 + 0.2;
  const torch::Tensor wh = torch::rand({t, 2}) * 0.3 + 0.05;
  return {torch::randint(k, {t}, torch::kLong), torch::cat({c, wh}, 1)};
}

}  // namespace

TEST_CASE("detr matcher cost equals the per-element formula", "[nn][detr][matcher]") {
  torch::manual_seed(0);
  const int64_t Q = 6, K = 3;
  const torch::Tensor logits = torch::randn({Q, K + 1});
  const torch::Tensor boxes = torch::cat({torch::rand({Q, 2}) * 0.6 + 0.2, torch::rand({Q, 2}) * 0.3 + 0.05}, 1);
  const SetTarget t = random_target(4, K);
  HungarianMatcher m({1.0, 5.0, 2.0});
  const torch::Tensor cost = m.cost_matrix(logits, boxes, t);
  REQUIRE(cost.sizes() == torch::IntArrayRef({Q, 4}));
  const torch::Tensor prob = logits.softmax(-1);
  for (int64_t q = 0; q < Q; ++q)
    for (int64_t j = 0; j < 4; ++j) {
      const torch::Tensor pb = boxes[q].contiguous(), tb = t.boxes[j].contiguous();
      const double l1 = (pb - tb).abs().sum().item<double>();
      const double expected = -prob[q][t.labels[j].item<int64_t>()].item<double>() + 5 * l1 -
                              2 * giou_ref(pb.data_ptr<float>(), tb.data_ptr<float>());
      CHECK(cost[q][j].item<double>() == Approx(expected).margin(1e-5));
    }
}

TEST_CASE("detr matcher with focal classes: Deformable DETR's class cost over sigmoid logits", "[nn][detr][matcher]") {
  torch::manual_seed(3);
  const int64_t Q = 5, K = 3;
  const torch::Tensor logits = torch::randn({Q, K});  // no "no object" column
  const torch::Tensor boxes = torch::cat({torch::rand({Q, 2}) * 0.6 + 0.2, torch::rand({Q, 2}) * 0.3 + 0.05}, 1);
  const SetTarget t = random_target(3, K);
  HungarianMatcherOptions o{2.0, 5.0, 2.0};
  o.focal = true;
  const HungarianMatcher m(o);
  const torch::Tensor cost = m.cost_matrix(logits, boxes, t);
  REQUIRE(cost.sizes() == torch::IntArrayRef({Q, 3}));
  for (int64_t q = 0; q < Q; ++q)
    for (int64_t j = 0; j < 3; ++j) {
      const double z = logits[q][t.labels[j].item<int64_t>()].item<double>();
      const double p = 1 / (1 + std::exp(-z));
      const double focal = 0.25 * (1 - p) * (1 - p) * -std::log(p + 1e-8) - 0.75 * p * p * -std::log(1 - p + 1e-8);
      const torch::Tensor pb = boxes[q].contiguous(), tb = t.boxes[j].contiguous();
      const double l1 = (pb - tb).abs().sum().item<double>();
      const double expected = 2 * focal + 5 * l1 - 2 * giou_ref(pb.data_ptr<float>(), tb.data_ptr<float>());
      CHECK(cost[q][j].item<double>() == Approx(expected).margin(1e-5));
    }
}

TEST_CASE("detr matcher finds the minimum-cost assignment (brute force over permutations)", "[nn][detr][matcher]") {
  torch::manual_seed(1);
  HungarianMatcher m;
  for (int rep = 0; rep < 20; ++rep) {
    const int64_t Q = 3 + rep % 4, T = 1 + rep % 4, K = 2;
    const torch::Tensor logits = torch::randn({2, Q, K + 1});
    const torch::Tensor boxes =
        torch::cat({torch::rand({2, Q, 2}) * 0.6 + 0.2, torch::rand({2, Q, 2}) * 0.3 + 0.05}, 2);
    const std::vector<SetTarget> targets = {random_target(T, K), random_target(std::max<int64_t>(T - 1, 0), K)};
    const auto matches = m(logits, boxes, targets);
    REQUIRE(matches.size() == 2);
    for (int64_t i = 0; i < 2; ++i) {
      const SetTarget& t = targets[i];
      const int64_t ti = t.labels.numel();
      const auto& mi = matches[i];
      REQUIRE(mi.pred.numel() == std::min(Q, ti));
      if (ti == 0) continue;
      const torch::Tensor cost = m.cost_matrix(logits[i], boxes[i], t).to(torch::kDouble);
      double got = 0;
      for (int64_t k = 0; k < mi.pred.numel(); ++k)
        got += cost[mi.pred[k].item<int64_t>()][mi.target[k].item<int64_t>()].item<double>();
      // Brute force: every ordered choice of ti distinct queries for the ti targets (ti <= Q here).
      std::vector<int64_t> q(Q);
      std::iota(q.begin(), q.end(), 0);
      double best = INFINITY;
      do {
        double c = 0;
        for (int64_t j = 0; j < ti; ++j) c += cost[q[j]][j].item<double>();
        best = std::min(best, c);
      } while (std::next_permutation(q.begin(), q.end()));
      CHECK(got == Approx(best).margin(1e-9));
      CHECK(std::is_sorted(mi.pred.data_ptr<int64_t>(), mi.pred.data_ptr<int64_t>() + mi.pred.numel()));
    }
  }
}

TEST_CASE("detr set criterion on a hand-computed case", "[nn][detr][criterion]") {
  // One image, K = 2 classes, 3 queries, 1 target of class 1 at (0.5, 0.5, 0.2, 0.2).
  const torch::Tensor logits = torch::tensor({0.f, 0.f, 0.f,   // query 0: uniform
                                              0.f, 3.f, 0.f,   // query 1: confident class 1
                                              0.f, 0.f, 2.f})  // query 2: confident "no object"
                                   .view({1, 1, 3, 3});
  const torch::Tensor boxes = hand_case_boxes();
  const std::vector<SetTarget> targets = hand_case_targets();
  SetCriterionOptions o;
  o.num_classes = 2;
  SetCriterion crit(o, HungarianMatcher());
  const auto losses = crit(logits, boxes, targets);
  REQUIRE(losses.size() == 3);
  // CE: query 1 -> class 1 (weight 1), queries 0 and 2 -> "no object" (weight 0.1); weighted mean.
  auto nll = [](std::vector<double> z, int c) {
    double s = 0;
    for (double v : z) s += std::exp(v);
    return -(z[c] - std::log(s));
  };
  const double ce = (nll({0, 3, 0}, 1) + 0.1 * nll({0, 0, 0}, 2) + 0.1 * nll({0, 0, 2}, 2)) / 1.2;
  CHECK(losses.at("loss_ce").item<double>() == Approx(ce).epsilon(1e-5));
  CHECK(losses.at("loss_bbox").item<double>() == Approx(5 * 0.2).epsilon(1e-5));  // |0.4 - 0.2|, weight 5
  CHECK(losses.at("loss_giou").item<double>() == Approx(2 * 0.5).epsilon(1e-5));  // IoU 1/2, hull = union
}

TEST_CASE("detr set criterion with focal classes: every query a negative but the matched one's class",
          "[nn][detr][criterion]") {
  // The hand-computed case above with K sigmoid logits: query 1 is matched to class 1.
  const torch::Tensor logits = torch::tensor({0.f, 0.f,    //
                                              -1.f, 3.f,   //
                                              -2.f, 0.5f})
                                   .view({1, 1, 3, 2});
  const torch::Tensor boxes = hand_case_boxes();
  const std::vector<SetTarget> targets = hand_case_targets();
  SetCriterionOptions o;
  o.num_classes = 2;
  o.focal = true;
  HungarianMatcherOptions mo;
  mo.focal = true;
  SetCriterion crit(o, HungarianMatcher(mo));
  const auto losses = crit(logits, boxes, targets);
  auto fl = [](double z, bool positive) {  // torchvision's sigmoid_focal_loss, alpha 0.25, gamma 2
    const double p = 1 / (1 + std::exp(-z));
    const double ce = positive ? -std::log(p) : -std::log(1 - p);
    const double pt = positive ? p : 1 - p;
    return (positive ? 0.25 : 0.75) * ce * (1 - pt) * (1 - pt);
  };
  const double expected = fl(0, false) + fl(0, false) + fl(-1, false) + fl(3, true) + fl(-2, false) + fl(0.5, false);
  CHECK(losses.at("loss_ce").item<double>() == Approx(expected).epsilon(1e-5));  // / num_boxes = 1
  CHECK(losses.at("loss_bbox").item<double>() == Approx(5 * 0.2).epsilon(1e-5));
  // Softmax logits (K + 1 columns) are refused in focal mode.
  CHECK_THROWS(crit(torch::zeros({1, 1, 3, 3}), boxes, targets));
}

TEST_CASE("detr set criterion: auxiliary keys, normalization by the batch's boxes, empty images",
          "[nn][detr][criterion]") {
  torch::manual_seed(2);
  const int64_t L = 3, N = 2, Q = 5, K = 3;
  const torch::Tensor logits = torch::randn({L, N, Q, K + 1}).requires_grad_(true);
  const torch::Tensor raw = torch::randn({L, N, Q, 4}).requires_grad_(true);
  const torch::Tensor boxes = raw.sigmoid();
  const std::vector<SetTarget> targets = {random_target(3, K),
                                              {torch::zeros({0}, torch::kLong), torch::zeros({0, 4})}};
  SetCriterionOptions o;
  o.num_classes = K;
  SetCriterion crit(o, HungarianMatcher());
  const auto losses = crit(logits, boxes, targets);
  std::vector<std::string> keys;
  for (const auto& kv : losses) keys.push_back(kv.first);
  CHECK(keys == std::vector<std::string>{"loss_bbox", "loss_bbox_0", "loss_bbox_1", "loss_ce", "loss_ce_0", "loss_ce_1",
                                         "loss_giou", "loss_giou_0", "loss_giou_1"});
  torch::Tensor total = torch::zeros({});
  for (const auto& kv : losses) {
    CHECK(std::isfinite(kv.second.item<double>()));
    total = total + kv.second;
  }
  total.backward();
  CHECK(logits.grad().abs().sum().item<double>() > 0);
  CHECK(raw.grad().abs().sum().item<double>() > 0);
  // The empty image's boxes get no gradient; its logits do (all its queries are "no object").
  CHECK(raw.grad().select(1, 1).abs().sum().item<double>() == 0);
  CHECK(logits.grad().select(1, 1).abs().sum().item<double>() > 0);

  // The last layer's losses equal layer_losses of the last layer with its own matching, times the weights.
  const auto idx = crit.matcher()(logits[L - 1], boxes[L - 1], targets);
  const auto last = crit.layer_losses(logits[L - 1], boxes[L - 1], targets, idx, 3.0);
  CHECK(losses.at("loss_bbox").item<double>() == Approx(5 * last.at("loss_bbox").item<double>()));
  CHECK(losses.at("loss_giou").item<double>() == Approx(2 * last.at("loss_giou").item<double>()));

  // A batch without any object: zero box losses, CE towards "no object" only.
  o.aux_loss = false;
  SetCriterion single(o, HungarianMatcher());
  const std::vector<SetTarget> none(N, SetTarget{torch::zeros({0}, torch::kLong), torch::zeros({0, 4})});
  const auto empty = single(logits, boxes, none);
  CHECK(empty.size() == 3);
  CHECK(empty.at("loss_bbox").item<double>() == 0);
  CHECK(empty.at("loss_giou").item<double>() == 0);
  CHECK(empty.at("loss_ce").item<double>() > 0);
}
