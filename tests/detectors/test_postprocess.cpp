// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// postprocess: decoding, threshold, clip, per-class NMS, pre-NMS top-k, top-k, soft-NMS, config.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.h"
#include "detectors/postprocess.h"

using namespace detlab;

namespace {
RegionScores scores_of(std::initializer_list<std::initializer_list<float>> rows) {
  RegionScores s;
  for (const auto& r : rows) {
    cv::Mat row(1, static_cast<int>(r.size()), CV_32F);
    int i = 0;
    for (float v : r) row.at<float>(0, i++) = v;
    s.scores.push_back(row);
  }
  return s;
}
}  // namespace

TEST_CASE("postprocess keeps per-class NMS survivors above the threshold, sorted", "[detectors][postprocess]") {
  const Proposals p = {{{0, 0, 10, 10}, 0}, {{1, 1, 11, 11}, 0}, {{50, 50, 60, 60}, 0}};
  // Columns: background, class 0, class 1.
  const RegionScores s = scores_of({{0.1f, 0.9f, 0.0f}, {0.2f, 0.8f, 0.7f}, {0.9f, 0.04f, 0.3f}});
  PostprocessOptions o;
  o.nms_iou = 0.5f;
  o.score_thresh = 0.05f;
  const Detections d = postprocess(p, s, 100, 100, o);
  // Class 0: boxes 0 (0.9) and 1 (0.8) overlap (IoU 0.68): 1 is suppressed; box 2 (0.04) is under the
  // threshold. Class 1: box 1 (0.7) and box 2 (0.3); NMS is per class, so box 1 survives in class 1.
  REQUIRE(d.size() == 3);
  REQUIRE(d[0].label == 0);
  REQUIRE(d[0].score == 0.9f);
  REQUIRE(d[1].label == 1);
  REQUIRE(d[1].score == 0.7f);
  REQUIRE(d[1].box == Box{1, 1, 11, 11});
  REQUIRE(d[2].label == 1);
  REQUIRE(d[2].score == 0.3f);

  o.max_per_image = 2;
  REQUIRE(postprocess(p, s, 100, 100, o).size() == 2);
  o.max_per_image = 100;
  o.pre_nms_top_k = 1;  // one candidate per class
  const Detections k1 = postprocess(p, s, 100, 100, o);
  REQUIRE(k1.size() == 2);
  REQUIRE(k1[1].score == 0.7f);
}

TEST_CASE("postprocess decodes class-specific deltas and clips to the image", "[detectors][postprocess]") {
  const Proposals p = {{{10, 10, 30, 30}, 0}};
  RegionScores s = scores_of({{0.f, 0.9f, 0.6f}});
  s.deltas = cv::Mat::zeros(1, 8, CV_32F);
  s.deltas.at<float>(0, 0) = 0.5f;                        // class 0: move right by half a width
  s.deltas.at<float>(0, 4 + 2) = std::log(4.f);           // class 1: four times wider
  PostprocessOptions o;
  o.score_thresh = 0.f;
  const Detections d = postprocess(p, s, 45, 100, o);
  REQUIRE(d.size() == 2);
  REQUIRE(d[0].box.x1 == Approx(20));
  REQUIRE(d[0].box.x2 == Approx(40));
  REQUIRE(d[1].box.x1 == Approx(0));   // centre 20, width 80 -> [-20, 60] clipped to [0, 45]
  REQUIRE(d[1].box.x2 == Approx(45));
  o.box_coder_weights = {10, 10, 5, 5};  // the same deltas mean ten times less movement
  REQUIRE(postprocess(p, s, 45, 100, o)[0].box.x1 == Approx(11));
}

TEST_CASE("postprocess on decoded candidates, soft-NMS keeps decayed overlaps", "[detectors][postprocess]") {
  const Detections c = {{{0, 0, 10, 10}, 0, 0.9f}, {{0, 0, 10, 9}, 0, 0.8f}, {{-5, 0, 0.001f, 10}, 0, 0.95f}};
  PostprocessOptions o;
  const Detections hard = postprocess(c, 20, 20, o);
  REQUIRE(hard.size() == 1);  // the third is clipped to zero width and dropped (min_size)
  o.soft_nms = true;
  const Detections soft = postprocess(c, 20, 20, o);
  REQUIRE(soft.size() == 2);
  REQUIRE(soft[1].score < 0.8f);
}

TEST_CASE("postprocess config", "[detectors][postprocess]") {
  const auto o = parse_postprocess(Config::parse(
      "{nms_iou: 0.3, score_thresh: 0.2, max_per_image: 10, pre_nms_top_k: 500, box_coder_weights: [10, 10, 5, 5], "
      "soft_nms: {method: linear, iou_threshold: 0.4}}"));
  REQUIRE(o.nms_iou == 0.3f);
  REQUIRE(o.max_per_image == 10);
  REQUIRE(o.pre_nms_top_k == 500);
  REQUIRE(o.box_coder_weights[2] == 5.f);
  REQUIRE(o.soft_nms);
  REQUIRE(o.soft.method == SoftNmsOptions::Method::kLinear);
  REQUIRE(parse_postprocess(Config::parse("{soft_nms: true}")).soft_nms);
  REQUIRE_THROWS_AS(parse_postprocess(Config::parse("{nms_iou: 1.5}")), InputError);
  REQUIRE_THROWS_AS(parse_postprocess(Config::parse("{box_coder_weights: [1, 2]}")), InputError);
  REQUIRE_THROWS_AS(parse_postprocess(Config::parse("{soft_nms: {method: cubic}}")), InputError);
}
