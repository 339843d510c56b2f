// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// End to end: experiments/synthetic/yolo.yaml trains YOLO v1 from scratch on the CPU and reaches AP50 >= 0.7 on
// the synthetic generator's held-out test split, scored by the evaluation harness from the saved model.
#include <catch2/catch.hpp>

#include "detectors/detector_test_util.h"
#include "experiment/run.h"

using namespace detlab;

TEST_CASE("YOLO v1 learns the synthetic shapes: AP50 >= 0.7 on held-out images", "[detectors][e2e][yolo]") {
  const RunConfig rc = load_run_config(std::string(DETLAB_REPO_ROOT) + "/experiments/synthetic/yolo.yaml");
  std::unique_ptr<Detector> det = build_detector(rc);
  TrainRunOptions to;
  to.out_dir = test::temp_dir("yolo_e2e");
  to.threads = 2;
  const TrainReport tr = train_run(rc, *det, to);

  std::unique_ptr<Detector> loaded = load_trained(rc, to.out_dir);
  EvalRunOptions eo;
  eo.out_dir = to.out_dir;
  const EvalReport er = evaluate_run(rc, *loaded, eo);
  const double ap50 = er.evaluation.metrics.coco_stat("AP50");
  WARN("YOLO synthetic: trained in " << tr.train_seconds << " s, COCO AP50 " << ap50 << ", AP "
                                     << er.evaluation.metrics.coco_stat("AP") << ", " << er.ms_per_image
                                     << " ms per image");
  REQUIRE(er.images == 40);
  REQUIRE(ap50 >= 0.7);
  REQUIRE(std::filesystem::exists(to.out_dir / "metrics.json"));
  REQUIRE(std::filesystem::exists(to.out_dir / "train_log.csv"));
}
