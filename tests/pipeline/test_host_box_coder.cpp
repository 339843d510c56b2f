// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// HostBoxCoder: R-CNN deltas by hand, round trips, weights, clamp.
#include <catch2/catch.hpp>

#include <cmath>

#include "pipeline/host_box_coder.h"

using namespace detlab;

TEST_CASE("box coder encodes R-CNN deltas", "[pipeline][box_coder]") {
  HostBoxCoder c;
  // Reference centre (15, 20), size 10 x 20; target centre (20, 20), size 20 x 10.
  const auto d = c.encode({10, 10, 20, 30}, {10, 15, 30, 25});
  REQUIRE(d[0] == Approx(0.5));
  REQUIRE(d[1] == Approx(0.0));
  REQUIRE(d[2] == Approx(std::log(2.0)));
  REQUIRE(d[3] == Approx(std::log(0.5)));
  const Box back = c.decode({10, 10, 20, 30}, d.data());
  REQUIRE(back.x1 == Approx(10));
  REQUIRE(back.y1 == Approx(15));
  REQUIRE(back.x2 == Approx(30));
  REQUIRE(back.y2 == Approx(25));
}

TEST_CASE("box coder weights scale the deltas, decode inverts them", "[pipeline][box_coder]") {
  HostBoxCoder c;
  c.weights = {10, 10, 5, 5};  // Fast R-CNN
  const Box p{3, 4, 50, 40}, g{7.5f, 1.f, 60.f, 33.f};
  const auto d = c.encode(p, g);
  REQUIRE(d[0] == Approx(10 * (g.cx() - p.cx()) / p.width()));
  REQUIRE(d[3] == Approx(5 * std::log(g.height() / p.height())));
  const Box b = c.decode(p, d.data());
  REQUIRE(b.x1 == Approx(g.x1).margin(1e-4));
  REQUIRE(b.y2 == Approx(g.y2).margin(1e-4));
}

TEST_CASE("box coder clamps huge size deltas", "[pipeline][box_coder]") {
  HostBoxCoder c;
  const float d[4] = {0, 0, 100, 100};
  const Box b = c.decode({0, 0, 16, 16}, d);
  REQUIRE(std::isfinite(b.x2));
  REQUIRE(b.width() == Approx(1000).epsilon(1e-4));  // 16 * exp(log(1000 / 16))
  REQUIRE_THROWS_AS(c.encode({0, 0, 0, 10}, {0, 0, 5, 5}), std::invalid_argument);
}
