// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// load_module_weights: nn/'s weight-file exceptions become one-line InputErrors naming the file.
#include <catch2/catch.hpp>

#include <fstream>

#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include "core/error.h"
#include "support/cli_runner.h"
#include "support/input_error.h"
#include "tensor/module_weights.h"

using namespace detlab;

using detlab::testing::input_error_of;

TEST_CASE("load_module_weights loads a fitting file and names the file on any failure", "[tensor][weights]") {
  testing::TempDir tmp("detlab_test_module_weights");
  torch::manual_seed(0);
  torch::nn::Linear saved(3, 2), fresh(3, 2), wider(4, 2);
  const auto file = tmp.path / "head.pt";
  save_weights(*saved, file.string());

  const LoadReport report = load_module_weights(*fresh, file, "head");
  CHECK(report.loaded.size() == 2);
  CHECK(torch::equal(fresh->weight, saved->weight));
  CHECK(torch::equal(fresh->bias, saved->bias));

  const std::string misfit = input_error_of([&] { load_module_weights(*wider, file, "head"); });
  CHECK_THAT(misfit, Catch::StartsWith(file.string() + ": weights: does not fit this head: "));

  const auto garbage = tmp.path / "garbage.pt";
  std::ofstream(garbage) << "not a weight file";
  CHECK_THAT(input_error_of([&] { load_module_weights(*fresh, garbage, "head"); }),
             Catch::StartsWith(garbage.string() + ": weights: "));
  const auto missing = tmp.path / "missing.pt";
  CHECK_THAT(input_error_of([&] { load_module_weights(*fresh, missing, "head"); }),
             Catch::StartsWith(missing.string() + ": weights: "));
}
