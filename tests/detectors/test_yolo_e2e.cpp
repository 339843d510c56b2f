// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// End to end: experiments/synthetic/yolo.yaml trains YOLO v1 from scratch on the CPU and reaches AP50 >= 0.7 on
// the synthetic generator's held-out test split, scored by the evaluation harness from the saved model.
#include <catch2/catch.hpp>

#include "detectors/e2e_run.h"

using namespace detlab;

TEST_CASE("YOLO v1 learns the synthetic shapes: AP50 >= 0.7 on held-out images", "[detectors][e2e][yolo]") {
  const test::E2eRun r = test::train_and_score("yolo", 2);
  REQUIRE(r.eval.images == 40);
  REQUIRE(r.ap50 >= 0.7);
  REQUIRE(std::filesystem::exists(r.dir / "metrics.json"));
  REQUIRE(std::filesystem::exists(r.dir / "train_log.csv"));
}
