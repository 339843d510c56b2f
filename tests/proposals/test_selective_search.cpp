// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// selective_search: ensures clauses, recall of clean objects, resize for speed, config errors, equality with
// ximgproc's own process() and the same boxes for any number of threads.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <thread>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/ximgproc/segmentation.hpp>

#include "config/config.h"
#include "core/box_ops.h"
#include "core/error.h"
#include "core/parallel.h"
#include "proposals/hierarchical_grouping.h"
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

namespace {

/// A textured scene: segments of many sizes, so the grouping and the ranking have work to do.
cv::Mat textured(int seed) {
  cv::Mat img(96, 128, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(img, cv::RNG::UNIFORM, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::GaussianBlur(img, img, cv::Size(9, 9), 3);
  for (int k = 0; k < 6; ++k)
    cv::circle(img, cv::Point(rng.uniform(10, 118), rng.uniform(10, 86)), rng.uniform(5, 25),
               cv::Scalar(rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)), cv::FILLED);
  return img;
}

}  // namespace

TEST_CASE("selective search boxes equal ximgproc's process() after srand(seed) on one thread",
          "[proposals][selective_search]") {
  // The reference: ximgproc's own SelectiveSearchSegmentation, ranked by std::rand() seeded just before, with
  // no other thread drawing from it (this test is the only thread).
  namespace seg = cv::ximgproc::segmentation;
  const auto mode = GENERATE(GroupingStrategy::Mode::kSingle, GroupingStrategy::Mode::kFast,
                             GroupingStrategy::Mode::kQuality);
  for (int image = 0; image < 2; ++image) {
    const cv::Mat img = textured(17 + image);
    const uint32_t seed = 0x5e1ec7 + image;
    auto ss = seg::createSelectiveSearchSegmentation();
    ss->setBaseImage(img);
    GroupingStrategy g;
    g.mode = mode;
    if (mode == GroupingStrategy::Mode::kSingle) ss->switchToSingleStrategy(g.base_k, g.sigma);
    if (mode == GroupingStrategy::Mode::kFast) ss->switchToSelectiveSearchFast(g.base_k, g.inc_k, g.sigma);
    if (mode == GroupingStrategy::Mode::kQuality) ss->switchToSelectiveSearchQuality(g.base_k, g.inc_k, g.sigma);
    std::vector<cv::Rect> reference;
    std::srand(seed);
    ss->process(reference);
    const std::vector<cv::Rect> ours = selective_search_boxes(img, g, seed);
    INFO("mode " << static_cast<int>(mode) << ", image " << image << ": " << reference.size() << " boxes");
    REQUIRE(reference.size() > 20);
    size_t first_diff = 0;
    while (first_diff < std::min(ours.size(), reference.size()) && ours[first_diff] == reference[first_diff]) ++first_diff;
    INFO("ours " << ours.size() << ", first difference at " << first_diff);
    REQUIRE(ours == reference);  // the same boxes in the same order
  }
}

TEST_CASE("selective_search gives the same boxes in the same order for 1 and 2 threads",
          "[proposals][selective_search]") {
  auto ss = make_selective_search(parse_selective_search(Config::parse("{mode: fast, max_proposals: 100}")));
  std::vector<Image> images;
  for (int i = 0; i < 6; ++i) images.push_back({"img" + std::to_string(i), textured(100 + i)});
  auto run = [&](int threads) {
    std::vector<Proposals> out(images.size());
    parallel_for(static_cast<int>(images.size()), threads, [&](int i, int) {
      ImageContext ctx;
      ctx.image = &images[i];
      out[i] = ss->propose(ctx);
    });
    return out;
  };
  const std::vector<Proposals> one = run(1);
  for (int repeat = 0; repeat < 3; ++repeat) {  // scheduling differs between runs; the boxes must not
    std::rand();                                // nor does anyone else's use of std::rand() matter
    const std::vector<Proposals> two = run(2);
    for (size_t i = 0; i < images.size(); ++i) {
      REQUIRE(one[i].size() == two[i].size());
      for (size_t k = 0; k < one[i].size(); ++k) REQUIRE(one[i][k].box == two[i][k].box);
    }
  }
}
