// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// End to end: experiments/synthetic/ssd.yaml, SSD (small_vgg from scratch), trained with the engine on the CPU, reaches
// AP50 >= 0.7 on the synthetic generator's held-out test split, scored from the saved model by the harness.
#include <catch2/catch.hpp>

#include "detectors/e2e_run.h"

using namespace detlab;

TEST_CASE("SSD (small_vgg from scratch) learns the synthetic shapes: AP50 >= 0.7", "[detectors][e2e][ssd]") {
  const test::E2eRun r = test::train_and_score("ssd", 2);
  REQUIRE(r.rc.dataset.num_classes() == 4);
  REQUIRE(r.eval.images == 40);
  REQUIRE(r.ap50 >= 0.7);  // its time is measured by bench/bench_e2e, not asserted here
}
