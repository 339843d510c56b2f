// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of the checked config reads every parser uses (config/checked.h): values, fallbacks, one-line errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "config/checked.h"
#include "core/error.h"

using namespace detlab;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("checked reads return the value or the fallback", "[config]") {
  const Config c = Config::parse("n: 3\nx: 0.5\nz: 0\nnorm: none\n", "exp.yaml");
  CHECK(get_positive(c, "n", 7) == 3);
  CHECK(get_positive(c, "absent", 7) == 7);
  CHECK(get_non_negative(c, "x", 1.0) == 0.5);
  CHECK(get_non_negative(c, "z", 1.0) == 0.0);
  CHECK(get_non_negative(c, "absent", 2.0) == 2.0);
  CHECK(get_choice(c, "norm", "batch_norm", {"batch_norm", "none"}) == "none");
  CHECK(get_choice(c, "absent", "batch_norm", {"batch_norm", "none"}) == "batch_norm");
}

TEST_CASE("checked reads refuse bad values with one line naming the file and the key", "[config]") {
  const Config c = Config::parse("head: {n: 0, m: -2, x: -0.1, y: .nan, norm: group_norm}\n", "exp.yaml");
  const Config h = c.child("head");
  CHECK(error_of([&] { get_positive(h, "n", 1); }) == "exp.yaml: head.n: must be positive, got 0");
  CHECK(error_of([&] { get_positive(h, "m", 1); }) == "exp.yaml: head.m: must be positive, got -2");
  CHECK(error_of([&] { get_non_negative(h, "x", 1); }) == "exp.yaml: head.x: must be >= 0");
  CHECK(error_of([&] { get_non_negative(h, "y", 1); }) == "exp.yaml: head.y: must be >= 0");  // NaN
  CHECK(error_of([&] { get_choice(h, "norm", "none", {"batch_norm", "frozen_batch_norm", "none"}); }) ==
        "exp.yaml: head.norm: expected batch_norm, frozen_batch_norm or none, got 'group_norm'");
  CHECK(error_of([&] { get_choice(h, "norm", "none", {"none"}); }) ==
        "exp.yaml: head.norm: expected none, got 'group_norm'");
  CHECK(error_of([&] { config_error(h, "n", "too small"); }) == "exp.yaml: head.n: too small");
  // A fallback that is not one of the choices is a programming error, reported the same way.
  CHECK(error_of([&] { get_choice(h, "absent", "x", {"a", "b"}); }) ==
        "exp.yaml: head.absent: expected a or b, got 'x'");
}
