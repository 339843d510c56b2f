// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of box geometry and the IoU family: hand-computed cases and pairwise vs pair equivalence.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "core/box_ops.h"

using namespace detlab;

TEST_CASE("area and intersection of hand-written boxes", "[core][box_ops]") {
  CHECK(area(Box{0, 0, 10, 5}) == 50.f);
  CHECK(area(Box{5, 5, 5, 9}) == 0.f);          // zero width
  CHECK(area(Box{10, 10, 0, 0}) == 0.f);        // inverted boxes have no area
  CHECK(intersection(Box{0, 0, 10, 10}, Box{5, 5, 15, 15}) == 25.f);
  CHECK(intersection(Box{0, 0, 10, 10}, Box{10, 0, 20, 10}) == 0.f);  // touching edges do not overlap
}

TEST_CASE("IoU family on hand-computed pairs", "[core][box_ops]") {
  const Box a{0, 0, 10, 10}, b{5, 5, 15, 15};
  // inter 25, union 175.
  CHECK(iou(a, b) == Approx(25.0 / 175.0));
  // hull 15x15 = 225: GIoU = IoU - (225 - 175) / 225.
  CHECK(giou(a, b) == Approx(25.0 / 175.0 - 50.0 / 225.0));
  // centres (5,5) and (10,10): d^2 = 50; hull diagonal^2 = 450.
  CHECK(diou(a, b) == Approx(25.0 / 175.0 - 50.0 / 450.0).epsilon(1e-6));
  // Same aspect ratio: v = 0, so CIoU == DIoU.
  CHECK(ciou(a, b) == Approx(diou(a, b)));

  SECTION("identical boxes") {
    CHECK(iou(a, a) == 1.f);
    CHECK(giou(a, a) == 1.f);
    CHECK(diou(a, a) == Approx(1.f));
    CHECK(ciou(a, a) == Approx(1.f));
  }
  SECTION("disjoint boxes: GIoU goes negative") {
    const Box c{20, 0, 30, 10};
    CHECK(iou(a, c) == 0.f);
    CHECK(giou(a, c) == Approx(-(300.0 - 200.0) / 300.0));
  }
  SECTION("CIoU penalises aspect-ratio mismatch") {
    const Box wide{0, 0, 20, 10}, tall{5, -5, 15, 15};  // same centre and area, transposed
    const double v = 4.0 / (M_PI * M_PI) * std::pow(std::atan(2.0) - std::atan(0.5), 2);
    const double i = iou(wide, tall);
    const double alpha = v / (1.0 - i + v + kIouEps);
    CHECK(ciou(wide, tall) == Approx(diou(wide, tall) - alpha * v).epsilon(1e-5));
    CHECK(ciou(wide, tall) < diou(wide, tall));
  }
  SECTION("empty boxes have IoU 0") { CHECK(iou(Box{1, 1, 1, 1}, Box{1, 1, 1, 1}) == 0.f); }
}

TEST_CASE("validity and clipping", "[core][box_ops]") {
  CHECK(is_valid(Box{0, 0, 0, 0}));
  CHECK_FALSE(is_valid(Box{5, 0, 4, 1}));
  CHECK_FALSE(is_valid(Box{0, 0, NAN, 1}));
  CHECK_FALSE(is_finite(Box{0, 0, INFINITY, 1}));
  const Box c = clip(Box{-5, 3, 700, 500}, 640, 480);
  CHECK(c == Box{0, 3, 640, 480});
}

TEST_CASE("pairwise overlaps equal the pair functions for every kind", "[core][box_ops]") {
  std::mt19937 rng(7767517);
  std::uniform_real_distribution<float> pos(0, 100), size(0, 40);
  Boxes a, b;
  for (int i = 0; i < 37; ++i) {
    float x = pos(rng), y = pos(rng);
    a.push_back({x, y, x + size(rng), y + size(rng)});
  }
  for (int i = 0; i < 23; ++i) {
    float x = pos(rng), y = pos(rng);
    b.push_back({x, y, x + size(rng), y + size(rng)});
  }
  for (IouKind kind : {IouKind::kIou, IouKind::kGiou, IouKind::kDiou, IouKind::kCiou}) {
    const Matrix m = pairwise_overlap(a, b, kind);
    REQUIRE(m.rows == 37);
    REQUIRE(m.cols == 23);
    for (int i = 0; i < m.rows; ++i)
      for (int j = 0; j < m.cols; ++j) REQUIRE(m(i, j) == overlap(a[i], b[j], kind));
  }
}
