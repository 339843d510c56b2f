// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// End to end: experiments/synthetic/detr.yaml (a small problem: 1-2 shapes of 2 classes on 128 x 128 images)
// trains DETR from scratch on the CPU and reaches AP50 >= 0.5 on held-out images, scored by the harness.
#include <catch2/catch.hpp>

#include "detectors/detector_test_util.h"
#include "experiment/run.h"

using namespace detlab;

TEST_CASE("DETR learns a small synthetic problem: AP50 >= 0.5 on held-out images", "[detectors][e2e][detr]") {
  const RunConfig rc = load_run_config(std::string(DETLAB_REPO_ROOT) + "/experiments/synthetic/detr.yaml");
  std::unique_ptr<Detector> det = build_detector(rc);
  TrainRunOptions to;
  to.out_dir = test::temp_dir("detr_e2e");
  to.threads = 1;  // one intra-op thread: faster than two on the shared 2-core CI machine, and deterministic
  const TrainReport tr = train_run(rc, *det, to);

  std::unique_ptr<Detector> loaded = load_trained(rc, to.out_dir);
  EvalRunOptions eo;
  eo.out_dir = to.out_dir;
  eo.threads = 1;
  const EvalReport er = evaluate_run(rc, *loaded, eo);
  const double ap50 = er.evaluation.metrics.coco_stat("AP50");
  WARN("DETR synthetic: trained in " << tr.train_seconds << " s, COCO AP50 " << ap50 << ", AP "
                                     << er.evaluation.metrics.coco_stat("AP") << ", " << er.ms_per_image
                                     << " ms per image");
  REQUIRE(er.images == 40);
  REQUIRE(ap50 >= 0.5);
  REQUIRE(std::filesystem::exists(to.out_dir / "metrics.json"));
}
