// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// End to end: experiments/synthetic/hog_svm.yaml trains in under a minute and reaches AP50 >= 0.8 on the
// synthetic generator's held-out test split, scored by the evaluation harness.
#include <catch2/catch.hpp>

#include "detectors/detector_test_util.h"
#include "experiment/run.h"

using namespace detlab;

TEST_CASE("HOG+SVM learns the synthetic shapes: AP50 >= 0.8 in under a minute", "[detectors][e2e]") {
  const RunConfig rc = load_run_config(std::string(DETLAB_REPO_ROOT) + "/experiments/synthetic/hog_svm.yaml");
  REQUIRE(rc.dataset.num_classes() == 4);
  std::unique_ptr<Detector> det = build_detector(rc);
  TrainRunOptions to;
  to.out_dir = test::temp_dir("hog_svm_e2e");
  to.threads = 2;
  const TrainReport tr = train_run(rc, *det, to);
  INFO("trained in " << tr.train_seconds << " s");
  CHECK(tr.train_seconds < 60.0);

  // Scored from the saved model, as `detlab eval --model` does.
  std::unique_ptr<Detector> loaded = load_trained(rc, to.out_dir);
  EvalRunOptions eo;
  eo.out_dir = to.out_dir;
  const EvalReport er = evaluate_run(rc, *loaded, eo);
  const double ap50 = er.evaluation.metrics.coco_stat("AP50");
  INFO("COCO AP50 " << ap50 << ", AP " << er.evaluation.metrics.coco_stat("AP") << ", " << er.ms_per_image
                    << " ms per image");
  REQUIRE(er.images == 40);
  REQUIRE(ap50 >= 0.8);
  REQUIRE(std::filesystem::exists(to.out_dir / "metrics.json"));
  REQUIRE(std::filesystem::exists(to.out_dir / "detections.json"));
  REQUIRE(std::filesystem::exists(to.out_dir / "config.yaml"));
  REQUIRE(std::filesystem::exists(to.out_dir / "train.json"));
}
