// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// End to end: experiments/synthetic/rcnn.yaml trains from scratch on the CPU and reaches AP50 >= 0.7 on the
// synthetic generator's held-out test split, scored from the saved model by the evaluation harness.
#include <catch2/catch.hpp>

#include "detectors/e2e_run.h"

using namespace detlab;

TEST_CASE("R-CNN (staged: selective search, cnn_crop fine-tuned, linear SVMs with mining, box regression) learns the synthetic shapes: AP50 >= 0.7", "[detectors][e2e][rcnn]") {
  // One LibTorch thread: on a loaded 2-core machine libgomp's spin-waiting barriers made two threads 2-3x slower
  // (and inference after training 40x slower) than one.
  const test::E2eRun r = test::train_and_score("rcnn", 1);
  REQUIRE(r.eval.images == 40);
  CHECK(r.ap50 >= 0.7);
  for (int i = 0; i < 3; ++i) {
    const Image img{r.rc.dataset.images[i].name, r.rc.dataset.load_image(i)};
    test::check_detections_contract(r.loaded->detect(img), img.bgr.cols, img.bgr.rows, r.rc.dataset.num_classes());
  }
}
