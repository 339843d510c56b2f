// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Confusion matrix with background row / column on a hand-built image.
#include <catch2/catch.hpp>

#include "eval/confusion.h"
#include "eval/eval_test_util.h"

using namespace detlab;
using namespace detlab::testing;

TEST_CASE("confusion matrix counts correct, confused, background and missed boxes", "[eval][confusion]") {
  Dataset gt = make_dataset(2, {1});
  gt.images[0].objects = {object(0, {0, 0, 10, 10}),                       // A
                          object(1, {20, 0, 30, 10}),                      // B
                          object(0, {40, 0, 50, 10}),                      // C: missed
                          object(1, {60, 0, 70, 10}, false, true),         // D: difficult
                          object(0, {0, 100, 10, 110}),                    // E
                          object(1, {2, 100, 12, 110})};                   // F
  const DetectionSet dets = {{1,
                              {det(0, {0, 0, 10, 10}, 0.9f),        // A, right class
                               det(0, {20, 0, 30, 10}, 0.8f),       // B, wrong class
                               det(1, {0, 0, 10, 10}, 0.7f),        // A again: taken -> background
                               det(1, {60, 0, 70, 10}, 0.6f),       // on the difficult object: not counted
                               det(0, {200, 0, 210, 10}, 0.3f),     // below the score threshold
                               det(1, {300, 0, 310, 10}, 0.55f),    // background
                               det(1, {0, 100, 10, 110}, 0.95f)}}}; // IoU 1 with E (c0), .67 with F (c1): F
  const ConfusionMatrix m = confusion_matrix(gt, dets);
  CHECK(m.at(0, 0) == 1);
  CHECK(m.at(1, 0) == 1);
  CHECK(m.at(1, 1) == 1);
  CHECK(m.at(2, 1) == 2);
  CHECK(m.at(0, 2) == 2);  // C and E missed
  CHECK(m.at(1, 2) == 0);
  CHECK(m.at(2, 2) == 0);
  CHECK(m.at(0, 1) == 0);
  CHECK(m.at(2, 0) == 0);
  const std::string csv = format_confusion_csv(m, gt.class_names);
  CHECK(csv == "gt\\pred,c0,c1,background\nc0,1,0,2\nc1,1,1,0\nbackground,0,2,0\n");

  ConfusionOptions low;
  low.score_threshold = 0.2f;
  CHECK(confusion_matrix(gt, dets, low).at(2, 0) == 1);  // the 0.3 detection now counts as background
}
