// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// numpy-exact numerics: values printed by numpy 1.24 (repr) for the same inputs.
#include <catch2/catch.hpp>

#include <cmath>

#include "eval/numeric.h"

using namespace detlab;

TEST_CASE("numpy_sum and numpy_mean reproduce numpy's blocked pairwise summation", "[eval][numeric]") {
  // x = [1 / (i + 1) for i in range(n)]; numpy.sum(x) / numpy.mean(x), and Python's sequential sum where it
  // differs (so the test would fail for a plain left-to-right loop).
  struct Case {
    size_t n;
    double sum, mean, sequential;
  };
  const Case cases[] = {{5, 2.283333333333333, 0.45666666666666667, 2.283333333333333},
                        {129, 5.440899030573669, 0.042177511864912164, 5.44089903057367},
                        {1000, 7.485470860550345, 0.007485470860550345, 7.485470860550343},
                        {8193, 9.588312101508468, 0.0011703053950333781, 9.588312101508423},
                        {80800, 11.876954097516771, 0.00014699200615738578, 11.876954097516805}};
  for (const Case& c : cases) {
    INFO("n = " << c.n);
    std::vector<double> x(c.n);
    double seq = 0;
    for (size_t i = 0; i < c.n; ++i) seq += x[i] = 1.0 / (i + 1);
    CHECK(numpy_sum(x) == c.sum);
    CHECK(numpy_mean(x) == c.mean);
    CHECK(seq == c.sequential);
  }
  CHECK(std::isnan(numpy_mean({})));
}

TEST_CASE("numpy_linspace and numpy_arange match numpy", "[eval][numeric]") {
  CHECK(numpy_linspace(0.5, 0.95, 10)[8] == 0.8999999999999999);
  CHECK(numpy_linspace(0, 1, 101)[7] == 0.07);
  CHECK(numpy_linspace(2, 3, 1) == std::vector<double>{2});
  const auto a = numpy_arange(0., 1.1, 0.1);
  CHECK(a.size() == 11);
  CHECK(a[6] == 0.6000000000000001);
  CHECK(numpy_arange(0, 1, 0.25) == std::vector<double>{0, 0.25, 0.5, 0.75});
  CHECK(numpy_arange(1, 0, 0.5).empty());
}
