// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of the NMS family: hand-written cases, tie-breaking, and fast paths against the naive references.
#include <catch2/catch.hpp>

#include <random>

#include "core/nms.h"
#include "core/nms_reference.h"

using namespace detlab;

namespace {

// Clustered random boxes so that many pairs overlap; scores quantised so that ties occur.
void random_boxes(size_t n, uint32_t seed, Boxes& boxes, std::vector<float>& scores, std::vector<int>& labels) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> centre(0, 1000), jitter(-20, 20), size(10, 80);
  std::uniform_int_distribution<int> score_q(0, 200), label(0, 4);
  std::vector<std::pair<float, float>> clusters;
  for (int c = 0; c < 200; ++c) clusters.emplace_back(centre(rng), centre(rng));
  boxes.clear(), scores.clear(), labels.clear();
  for (size_t i = 0; i < n; ++i) {
    const auto& [cx, cy] = clusters[i % clusters.size()];
    const float x = cx + jitter(rng), y = cy + jitter(rng), w = size(rng), h = size(rng);
    boxes.push_back({x, y, x + w, y + h});
    scores.push_back(score_q(rng) / 200.f);
    labels.push_back(label(rng));
  }
}

}  // namespace

TEST_CASE("nms keeps the higher-scoring box of an overlapping pair", "[core][nms]") {
  const Detections dets = {{{0, 0, 10, 10}, 0, 0.9f}, {{1, 1, 11, 11}, 0, 0.8f}, {{50, 50, 60, 60}, 0, 0.7f}};
  CHECK(nms(dets, 0.5f) == std::vector<int>{0, 2});
  // IoU of the pair is 81/119 = 0.68: a threshold above it keeps both.
  CHECK(nms(dets, 0.7f) == std::vector<int>{0, 1, 2});
}

TEST_CASE("nms suppresses only when IoU is strictly above the threshold", "[core][nms]") {
  // IoU exactly 0.5: two 10x10 boxes overlapping on a 10x(20/3) strip gives 1/2 only approximately, so use
  // boxes whose IoU is exactly representable: inter 50, union 100.
  const Boxes boxes = {{0, 0, 10, 10}, {0, 0, 10, 5}};
  const std::vector<float> scores = {0.9f, 0.8f};
  CHECK(nms(boxes, scores, 0.5f) == std::vector<int>{0, 1});
  CHECK(nms(boxes, scores, 0.49f) == std::vector<int>{0});
}

TEST_CASE("nms breaks score ties by the lower index", "[core][nms]") {
  const Boxes boxes = {{0, 0, 10, 10}, {0, 0, 10, 10}, {0, 0, 10, 10}};
  CHECK(nms(boxes, {0.5f, 0.5f, 0.5f}, 0.5f) == std::vector<int>{0});
  CHECK(nms(boxes, {0.4f, 0.5f, 0.5f}, 0.5f) == std::vector<int>{1});
  CHECK(sort_by_score({0.2f, 0.7f, 0.2f, 0.7f}) == std::vector<int>{1, 3, 0, 2});
}

TEST_CASE("batched nms never suppresses across labels", "[core][nms]") {
  const Detections dets = {{{0, 0, 10, 10}, 0, 0.9f}, {{0, 0, 10, 10}, 1, 0.8f}, {{1, 1, 10, 10}, 0, 0.7f}};
  CHECK(batched_nms(dets, 0.5f) == std::vector<int>{0, 1});
  CHECK(nms(dets, 0.5f) == std::vector<int>{0});
}

TEST_CASE("soft-nms decays instead of removing", "[core][nms]") {
  const Boxes boxes = {{0, 0, 10, 10}, {0, 0, 10, 5}, {50, 50, 60, 60}};
  const std::vector<float> scores = {0.9f, 0.8f, 0.7f};
  SoftNmsOptions lin;
  lin.method = SoftNmsOptions::Method::kLinear;
  lin.iou_threshold = 0.3f;
  const auto out = soft_nms(boxes, scores, lin);
  REQUIRE(out.size() == 3);
  CHECK(out[0].index == 0);
  CHECK(out[0].score == 0.9f);
  CHECK(out[1].index == 2);  // 0.8 * (1 - 0.5) = 0.4 < 0.7
  CHECK(out[2].index == 1);
  CHECK(out[2].score == Approx(0.4f));

  SoftNmsOptions gauss;  // exp(-0.25 / 0.5) = 0.6065
  const auto g = soft_nms(boxes, scores, gauss);
  REQUIRE(g.size() == 3);
  CHECK(g[1].index == 2);
  CHECK(g[2].score == Approx(0.8f * std::exp(-0.5f)));

  SoftNmsOptions drop = lin;
  drop.score_threshold = 0.5f;  // the decayed box falls below and is dropped
  CHECK(soft_nms(boxes, scores, drop).size() == 2);
}

TEST_CASE("top_k keeps the best k in score order", "[core][nms]") {
  CHECK(top_k(std::vector<float>{0.1f, 0.9f, 0.5f, 0.9f}, 3) == std::vector<int>{1, 3, 2});
  CHECK(top_k(std::vector<float>{0.1f, 0.9f}, -1) == std::vector<int>{1, 0});
  CHECK(top_k(std::vector<float>{0.1f, 0.9f}, 5).size() == 2);
  const Detections dets = {{{}, 0, 0.2f}, {{}, 1, 0.8f}};
  CHECK(top_k(dets, 1).front().label == 1);
}

TEST_CASE("fast NMS paths equal the naive references on 10,000 random boxes", "[core][nms]") {
  Boxes boxes;
  std::vector<float> scores;
  std::vector<int> labels;
  random_boxes(10000, 7767517, boxes, scores, labels);
  for (float thr : {0.3f, 0.5f, 0.7f}) {
    const std::vector<int> fast = nms(boxes, scores, thr);
    CHECK(fast.size() > 100);
    CHECK(fast == reference::nms(boxes, scores, thr));
    CHECK(batched_nms(boxes, scores, labels, thr) == reference::batched_nms(boxes, scores, labels, thr));
  }
}

TEST_CASE("fast soft-NMS equals the naive reference on 10,000 random boxes", "[core][nms]") {
  Boxes boxes;
  std::vector<float> scores;
  std::vector<int> labels;
  random_boxes(10000, 42, boxes, scores, labels);
  for (auto method : {SoftNmsOptions::Method::kLinear, SoftNmsOptions::Method::kGaussian}) {
    SoftNmsOptions o;
    o.method = method;
    o.score_threshold = 0.05f;
    const auto fast = soft_nms(boxes, scores, o);
    const auto ref = reference::soft_nms(boxes, scores, o);
    REQUIRE(fast.size() == ref.size());
    for (size_t i = 0; i < fast.size(); ++i) {
      REQUIRE(fast[i].index == ref[i].index);
      REQUIRE(fast[i].score == ref[i].score);
    }
  }
}
