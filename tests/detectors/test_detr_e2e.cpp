// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// End to end: experiments/synthetic/detr.yaml (a small problem: 1-2 shapes of 2 classes on 128 x 128 images)
// trains DETR from scratch on the CPU and reaches AP50 >= 0.5 on held-out images, scored by the harness.
#include <catch2/catch.hpp>

#include "detectors/e2e_run.h"

using namespace detlab;

TEST_CASE("DETR learns a small synthetic problem: AP50 >= 0.5 on held-out images", "[detectors][e2e][detr]") {
  // One intra-op thread: faster than two on the shared 2-core CI machine, and deterministic.
  const test::E2eRun r = test::train_and_score("detr", 1);
  REQUIRE(r.eval.images == 40);
  REQUIRE(r.ap50 >= 0.5);
  REQUIRE(std::filesystem::exists(r.dir / "metrics.json"));
}
