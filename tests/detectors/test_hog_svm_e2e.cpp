// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// End to end: experiments/synthetic/hog_svm.yaml trains in under a minute and reaches AP50 >= 0.8 on the
// synthetic generator's held-out test split, scored by the evaluation harness.
#include <catch2/catch.hpp>

#include "detectors/e2e_run.h"

using namespace detlab;

TEST_CASE("HOG+SVM learns the synthetic shapes: AP50 >= 0.8", "[detectors][e2e]") {
  const test::E2eRun r = test::train_and_score("hog_svm", 2);
  REQUIRE(r.rc.dataset.num_classes() == 4);
  REQUIRE(r.eval.images == 40);
  REQUIRE(r.ap50 >= 0.8);
  REQUIRE(std::filesystem::exists(r.dir / "metrics.json"));
  REQUIRE(std::filesystem::exists(r.dir / "detections.json"));
  REQUIRE(std::filesystem::exists(r.dir / "config.yaml"));
  REQUIRE(std::filesystem::exists(r.dir / "train.json"));
}
