// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// sliding_window: window counts, pyramid geometry, learned per-class windows, persistence, config errors.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "config/config.h"
#include "core/error.h"
#include "data/dataset.h"
#include "pipeline/model_dir.h"
#include "proposals/sliding_window.h"
#include "pipeline/window_groups.h"

using namespace detlab;

namespace detlab {
// Torch builds put glog's std::vector printer into this test's precompiled header; it prints elements with <<.
inline std::ostream& operator<<(std::ostream& os, const WindowShape& w) { return os << w.width << "x" << w.height; }
}  // namespace detlab

namespace {

ImageContext context_of(const Image& img) {
  ImageContext c;
  c.image = &img;
  return c;
}

Dataset boxes_dataset() {
  Dataset ds;
  ds.class_names = {"square", "wide", "tall_rare"};
  for (int i = 0; i < 10; ++i) {
    ImageRecord r;
    r.name = "im" + std::to_string(i);
    const float s = 30.f + 4.f * i;  // square objects of 30 .. 66 px
    r.objects.push_back({{0, 0, s, s}, 0});
    r.objects.push_back({{0, 0, 2.f * s, s}, 1});        // aspect 2
    if (i == 0) r.objects.push_back({{0, 0, 40, 41}, 2});  // aspect ~1: merged with "square"
    ds.images.push_back(r);
  }
  return ds;
}

}  // namespace

TEST_CASE("sliding_window enumerates every window of a single level", "[proposals][sliding_window]") {
  SlidingWindowOptions o;
  o.windows = {{32, 32}};
  o.stride = 8;
  o.min_object = 32;  // scale <= 1
  o.max_object = 32;  // scale >= 1: only the full-resolution level
  const Image img{"a", cv::Mat(80, 100, CV_8UC3, cv::Scalar::all(0))};
  const Proposals p = make_sliding_window(o)->propose(context_of(img));
  REQUIRE(p.size() == 9 * 7);  // x in {0, 8, .., 64}, y in {0, 8, .., 48}
  REQUIRE(p.front().box == Box{0, 0, 32, 32});
  REQUIRE(p.back().box == Box{64, 48, 96, 80});
  for (const Proposal& q : p) REQUIRE(q.objectness == 0.f);  // sorted (all equal)
}

TEST_CASE("sliding_window boxes map back through each level's actual scale", "[proposals][sliding_window]") {
  SlidingWindowOptions o;
  o.windows = {{48, 48}};
  o.scale_step = 1.3f;
  const Image img{"a", cv::Mat(123, 171, CV_8UC3, cv::Scalar::all(0))};
  const Proposals p = make_sliding_window(o)->propose(context_of(img));
  REQUIRE(!p.empty());
  int levels = 0;
  float last_w = -1;
  for (const Proposal& q : p) {
    REQUIRE(q.box.x1 >= 0);
    REQUIRE(q.box.y1 >= 0);
    REQUIRE(q.box.x2 <= 171);
    REQUIRE(q.box.y2 <= 123);
    if (std::fabs(q.box.width() - last_w) > 0.01f) ++levels, last_w = q.box.width();
  }
  // Levels while the window fits: 171 x 123 at 1, 1/1.3, 1/1.69, 1/2.197 (78 x 56): four.
  REQUIRE(levels == 4);
  // Level 1 is round(171 / 1.3) = 132 px wide: a 48-px window spans 48 * 171 / 132 input pixels.
  REQUIRE(p.back().box.width() == Approx(48.f * 171 / 78).epsilon(1e-5));
}

TEST_CASE("sliding_window caps the count with an evenly spaced subset", "[proposals][sliding_window]") {
  SlidingWindowOptions o;
  o.windows = {{16, 16}};
  o.max_proposals = 10;
  const Image img{"a", cv::Mat(100, 100, CV_8UC3, cv::Scalar::all(0))};
  REQUIRE(make_sliding_window(o)->propose(context_of(img)).size() == 10);
}

TEST_CASE("sliding_window learns one window per class from the training boxes", "[proposals][sliding_window]") {
  SlidingWindowOptions o;  // windows: auto
  o.window_area = 2304;
  auto sw = make_sliding_window(o);
  REQUIRE(window_shapes_of(*sw) == std::vector<WindowShape>{{48, 48}});  // before fit: one square window
  sw->fit(boxes_dataset());
  const auto shapes = window_shapes_of(*sw);
  REQUIRE(shapes.size() == 2);
  REQUIRE(shapes[0] == WindowShape{48, 48});
  // Aspect 2 with area 2304: sqrt(4608) = 67.9 -> 64 (multiple of 8), sqrt(1152) = 33.9 -> 32.
  REQUIRE(shapes[1] == WindowShape{64, 32});
  REQUIRE(window_group_of_class(*sw, 0) == 0);
  REQUIRE(window_group_of_class(*sw, 1) == 1);
  REQUIRE(window_group_of_class(*sw, 2) == 0);  // same aspect as class 0: shares its window

  // Scale range from the box sizes: objects of 30 .. 66 px -> upsampled top level (48 / ~30.7).
  const Image img{"a", cv::Mat(120, 160, CV_8UC3, cv::Scalar::all(0))};
  const Proposals p = sw->propose(context_of(img));
  REQUIRE(!p.empty());
  float smallest = 1e9f;
  for (const Proposal& q : p) smallest = std::min(smallest, q.box.width());
  REQUIRE(smallest < 33.f);

  // Persistence: a fresh stage restores the learned windows.
  const auto dir = std::filesystem::temp_directory_path() / ("detlab_test_sliding_window_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  sw->save(dir);
  auto restored = make_sliding_window(o);
  restored->load(dir);
  REQUIRE(window_shapes_of(*restored) == shapes);
  REQUIRE(restored->propose(context_of(img)).size() == p.size());
  REQUIRE(window_group_of_class(*restored, 1) == 1);

  // A file of another version is refused with the file's name.
  auto j = read_versioned_json(dir / "sliding_window.json", "sliding_window", 1);
  write_versioned_json(dir / "sliding_window.json", "sliding_window", 99, j);
  REQUIRE_THROWS_WITH(restored->load(dir), Catch::Contains("sliding_window.json") && Catch::Contains("version 99"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("sliding_window config", "[proposals][sliding_window]") {
  const auto o = parse_sliding_window(Config::parse("{windows: [[64, 128], [48, 48]], stride: 4, scale_step: 1.1}"));
  REQUIRE(o.windows == std::vector<WindowShape>{{64, 128}, {48, 48}});
  REQUIRE(o.stride == 4);
  REQUIRE(parse_sliding_window(Config::parse("{windows: [64, 128]}")).windows == std::vector<WindowShape>{{64, 128}});
  REQUIRE(parse_sliding_window(Config::parse("{windows: auto}")).windows.empty());
  REQUIRE_THROWS_AS(parse_sliding_window(Config::parse("{windows: [[64, 64], [32, 32]]}")), InputError);
  REQUIRE_THROWS_AS(parse_sliding_window(Config::parse("{windows: often}")), InputError);
  REQUIRE_THROWS_AS(parse_sliding_window(Config::parse("{stride: 0}")), InputError);
  REQUIRE_THROWS_WITH(parse_sliding_window(Config::parse("{scale_step: 1.0}", "x.yaml")),
                      Catch::Contains("x.yaml") && Catch::Contains("scale_step"));
}
