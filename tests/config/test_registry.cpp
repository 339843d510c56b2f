// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of Registry: explicit registration, build by type, unknown types and keys.
#include <catch2/catch.hpp>

#include "config/registry.h"

namespace detlab {
struct BuildContext {};
}  // namespace detlab

using namespace detlab;

namespace {
struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
};
struct Square : Shape {
  double side = 1;
  double area() const override { return side * side; }
};
}  // namespace

TEST_CASE("registry builds by type and checks every key was read", "[config][registry]") {
  Registry<Shape> r("shape");
  r.add("square", [](const Config& c, BuildContext&) {
    auto s = std::make_unique<Square>();
    s->side = c.get<double>("side", 1.0);
    return s;
  }, "a square");
  CHECK_THROWS_AS(r.add("square", nullptr), std::invalid_argument);
  CHECK(r.names() == std::vector<std::string>{"square"});
  CHECK(r.summary("square") == "a square");

  BuildContext ctx;
  CHECK(r.build(Config::parse("{type: square, side: 3}"), ctx)->area() == 9.0);
  try {
    r.build(Config::parse("{type: circle}", "s.yaml"), ctx);
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == "s.yaml: type: unknown shape 'circle' (known: square)");
  }
  try {
    r.build(Config::parse("{type: square, sid: 3}", "s.yaml"), ctx);
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) == "s.yaml: sid (did you mean 'side'?): unknown key");
  }
}
