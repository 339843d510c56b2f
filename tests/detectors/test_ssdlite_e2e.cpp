// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// End to end: experiments/synthetic/ssdlite.yaml, SSDlite (MobileNetV3-Small 0.5 from scratch), trained with the engine on the CPU, reaches
// AP50 >= 0.7 on the synthetic generator's held-out test split, scored from the saved model by the harness.
#include <catch2/catch.hpp>

#include "detectors/detector_test_util.h"
#include "experiment/run.h"

#include <ctime>

using namespace detlab;

TEST_CASE("SSDlite (MobileNetV3-Small 0.5 from scratch) learns the synthetic shapes: AP50 >= 0.7", "[detectors][e2e][ssdlite]") {
  const RunConfig rc = load_run_config(std::string(DETLAB_REPO_ROOT) + "/experiments/synthetic/ssdlite.yaml");
  REQUIRE(rc.dataset.num_classes() == 4);
  std::unique_ptr<Detector> det = build_detector(rc);
  TrainRunOptions to;
  to.out_dir = test::temp_dir("ssdlite_e2e");
  to.threads = 2;
  const std::clock_t cpu0 = std::clock();
  const TrainReport tr = train_run(rc, *det, to);
  const double cpu_seconds = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;

  std::unique_ptr<Detector> loaded = load_trained(rc, to.out_dir);
  EvalRunOptions eo;
  eo.out_dir = to.out_dir;
  const EvalReport er = evaluate_run(rc, *loaded, eo);
  const double ap50 = er.evaluation.metrics.coco_stat("AP50");
  WARN("ssdlite e2e: trained in " << tr.train_seconds << " s (" << cpu_seconds << " CPU s); COCO AP50 " << ap50 << ", AP "
                      << er.evaluation.metrics.coco_stat("AP") << ", " << er.ms_per_image << " ms per image");
  REQUIRE(er.images == 40);
  REQUIRE(ap50 >= 0.7);
  // The CI budget of one e2e test is ~3 minutes on 2 cores; CPU time, not wall time, so that a loaded machine
  // (other test processes, other users) does not fail it.
  CHECK(cpu_seconds < 360.0);
}
