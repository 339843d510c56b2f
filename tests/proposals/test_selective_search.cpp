// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// selective_search: ensures clauses, recall of clean objects, resize for speed, config errors.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <thread>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "config/config.h"
#include "core/box_ops.h"
#include "core/error.h"
#include "proposals/selective_search.h"

using namespace detlab;

namespace {

/// Three flat-coloured objects on a smooth background: selective search must find each of them.
cv::Mat scene(Boxes& objects) {
  cv::Mat img(120, 160, CV_8UC3);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(40 + x / 4, 60 + y / 4, 90);
  objects = {{10, 12, 50, 60}, {70, 30, 140, 70}, {40, 80, 90, 115}};
  cv::rectangle(img, cv::Rect(10, 12, 40, 48), cv::Scalar(250, 30, 30), cv::FILLED);
  cv::rectangle(img, cv::Rect(70, 30, 70, 40), cv::Scalar(20, 220, 20), cv::FILLED);
  cv::ellipse(img, cv::Point(65, 97), cv::Size(25, 17), 0, 0, 360, cv::Scalar(10, 10, 240), cv::FILLED);
  return img;
}

float best_iou(const Proposals& p, const Box& b) {
  float best = 0;
  for (const Proposal& q : p) best = std::max(best, iou(q.box, b));
  return best;
}

}  // namespace

TEST_CASE("selective_search finds clean objects, boxes inside, ranked, capped", "[proposals][selective_search]") {
  const auto mode = GENERATE(std::string("single"), std::string("fast"), std::string("quality"));
  Boxes objects;
  const Image img{"scene", scene(objects)};
  ImageContext ctx;
  ctx.image = &img;
  auto ss = make_selective_search(parse_selective_search(Config::parse("{mode: " + mode + ", max_proposals: 300}")));
  const Proposals p = ss->propose(ctx);
  INFO("mode " << mode << ", " << p.size() << " proposals");
  REQUIRE(!p.empty());
  REQUIRE(static_cast<int>(p.size()) <= ss->max_proposals());
  for (size_t i = 0; i < p.size(); ++i) {
    REQUIRE(p[i].box.x1 >= 0);
    REQUIRE(p[i].box.y1 >= 0);
    REQUIRE(p[i].box.x2 <= 160);
    REQUIRE(p[i].box.y2 <= 120);
    REQUIRE(p[i].box.width() >= 1);
    if (i) REQUIRE(p[i].objectness <= p[i - 1].objectness);
  }
  // The ellipse's axis-aligned box is 50 x 34 (+- a pixel of anti-aliasing).
  for (const Box& b : objects) REQUIRE(best_iou(p, b) >= 0.8f);
}

TEST_CASE("selective_search resize_to returns boxes in input pixels", "[proposals][selective_search]") {
  Boxes objects;
  cv::Mat small = scene(objects), big;
  cv::resize(small, big, cv::Size(), 4, 4, cv::INTER_NEAREST);  // 640 x 480
  const Image img{"big", big};
  ImageContext ctx;
  ctx.image = &img;
  auto ss = make_selective_search(parse_selective_search(Config::parse("{mode: fast, resize_to: 160}")));
  const Proposals p = ss->propose(ctx);
  REQUIRE(!p.empty());
  float max_x2 = 0;
  for (const Proposal& q : p) max_x2 = std::max(max_x2, q.box.x2);
  REQUIRE(max_x2 > 160);  // scaled back to the 640-px input
  for (const Box& b : objects) REQUIRE(best_iou(p, {4 * b.x1, 4 * b.y1, 4 * b.x2, 4 * b.y2}) >= 0.7f);
}

TEST_CASE("selective_search config errors", "[proposals][selective_search]") {
  REQUIRE_THROWS_WITH(parse_selective_search(Config::parse("{mode: slow}", "ss.yaml")),
                      Catch::Contains("ss.yaml") && Catch::Contains("mode"));
  REQUIRE_THROWS_AS(parse_selective_search(Config::parse("{max_proposals: 0}")), InputError);
  REQUIRE_THROWS_AS(parse_selective_search(Config::parse("{resize_to: -1}")), InputError);
  const auto o = parse_selective_search(Config::parse("{mode: quality, base_k: 100, inc_k: 50, sigma: 0.5}"));
  REQUIRE(o.mode == SelectiveSearchOptions::Mode::kQuality);
  REQUIRE(o.base_k == 100);
  REQUIRE(o.inc_k == 50);
}

TEST_CASE("selective_search ranks the same way on every call, one image at a time", "[proposals][selective_search]") {
  Boxes objects;
  const Image img{"scene", scene(objects)};
  ImageContext ctx;
  ctx.image = &img;
  auto ss = make_selective_search(parse_selective_search(Config::parse("{mode: fast, max_proposals: 50}")));
  const Proposals a = ss->propose(ctx);
  std::rand();  // disturb the generator ximgproc draws from: the stage reseeds it
  const Proposals b = ss->propose(ctx);
  Proposals c;
  std::thread([&] { c = ss->propose(ctx); }).join();
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() == c.size());
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].box == b[i].box);
    REQUIRE(a[i].box == c[i].box);
  }
}
