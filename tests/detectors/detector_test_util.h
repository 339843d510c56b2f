// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Helpers for detector tests: a small synthetic data set and the Detector::detect() ensures clauses.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "data/synthetic.h"
#include "pipeline/detector.h"

namespace detlab::test {

/// Small and quick: 2 classes, near-square shapes, 128 x 128 images.
inline Dataset tiny_synthetic(int images = 30, uint64_t seed = 1) {
  SyntheticOptions o;
  o.num_images = images;
  o.width = o.height = 128;
  o.min_size = 28;
  o.max_size = 56;
  o.max_aspect = 1.2f;
  o.max_objects = 3;
  o.classes = {"ellipse", "cross"};
  o.seed = seed;
  return make_synthetic(o);
}

inline std::filesystem::path temp_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("detlab_test_" + name);
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

/// Detector::detect() ensures: clipped, sorted by score (desc), at most max_per_image, labels in range.
inline void check_detections_contract(const Detections& d, int width, int height, int num_classes,
                                      int max_per_image = 100) {
  REQUIRE(static_cast<int>(d.size()) <= max_per_image);
  for (size_t i = 0; i < d.size(); ++i) {
    REQUIRE(d[i].box.x1 >= 0);
    REQUIRE(d[i].box.y1 >= 0);
    REQUIRE(d[i].box.x2 <= width);
    REQUIRE(d[i].box.y2 <= height);
    REQUIRE(d[i].box.x2 >= d[i].box.x1);
    REQUIRE(d[i].box.y2 >= d[i].box.y1);
    REQUIRE(d[i].label >= 0);
    REQUIRE(d[i].label < num_classes);
    if (i) REQUIRE(d[i].score <= d[i - 1].score);
  }
}

}  // namespace detlab::test
