// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Drawing labelled boxes: colours per class, label backgrounds, score filtering, grey input.
#include <catch2/catch.hpp>

#include <set>

#include <opencv2/core.hpp>

#include "data/draw.h"

using namespace detlab;

namespace {
cv::Vec3b at(const cv::Mat& m, int x, int y) { return m.at<cv::Vec3b>(y, x); }
cv::Vec3b colour_of(int label) {
  const cv::Scalar c = class_colour(label);
  return cv::Vec3b(cv::saturate_cast<uint8_t>(c[0]), cv::saturate_cast<uint8_t>(c[1]), cv::saturate_cast<uint8_t>(c[2]));
}
}  // namespace

TEST_CASE("class_colour gives 20 distinct colours and grey for unknown labels", "[data][draw]") {
  std::set<std::tuple<int, int, int>> seen;
  for (int k = 0; k < 20; ++k) {
    const cv::Scalar c = class_colour(k);
    seen.insert({int(c[0]) / 8, int(c[1]) / 8, int(c[2]) / 8});  // distinct even after coarse quantization
  }
  CHECK(seen.size() == 20);
  CHECK(class_colour(-1) == cv::Scalar(160, 160, 160));
}

TEST_CASE("draw_objects outlines each box in its class colour with a label above it", "[data][draw]") {
  const cv::Mat black(120, 160, CV_8UC3, cv::Scalar(0, 0, 0));
  Object o;
  o.box = Box{40, 50, 100, 90};
  o.label = 1;
  DrawOptions opts;
  opts.thickness = 1;
  const cv::Mat out = draw_objects(black, {o}, {"a", "b"}, opts);
  CHECK(black.at<cv::Vec3b>(50, 40) == cv::Vec3b(0, 0, 0));  // the input is untouched
  CHECK(at(out, 40, 70) == colour_of(1));                    // left edge
  CHECK(at(out, 99, 70) == colour_of(1));                    // right edge: the last covered pixel is x2 - 1
  CHECK(at(out, 70, 89) == colour_of(1));                    // bottom edge
  CHECK(at(out, 70, 70) == cv::Vec3b(0, 0, 0));              // inside stays
  // a filled label background just above the box top-left
  CHECK(at(out, 41, 48) != cv::Vec3b(0, 0, 0));
}

TEST_CASE("draw_detections keeps scores >= min_score and accepts grey images", "[data][draw]") {
  const cv::Mat grey(60, 60, CV_8UC1, cv::Scalar(0));
  Detections dets = {{{5, 30, 25, 55}, 0, 0.9f}, {{35, 30, 55, 55}, 0, 0.1f}};
  const cv::Mat out = draw_detections(grey, dets, {"x"}, 0.5f);
  REQUIRE(out.type() == CV_8UC3);
  CHECK(at(out, 5, 40) == colour_of(0));
  CHECK(at(out, 35, 40) == cv::Vec3b(0, 0, 0));  // below min_score: not drawn
  const cv::Mat both = draw_boxes(grey, {dets[0].box, dets[1].box}, {0, 7}, {"x"}, {0.9f, 0.1f});
  CHECK(at(both, 35, 40) == colour_of(7));  // an out-of-range label is still drawn ("#7")
}
