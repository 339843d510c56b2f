// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// End to end: experiments/synthetic/rcnn.yaml trains from scratch on the CPU and reaches AP50 >= 0.7 on the
// synthetic generator's held-out test split, scored from the saved model by the evaluation harness.
#include <catch2/catch.hpp>

#include "detectors/detector_test_util.h"
#include "experiment/run.h"

using namespace detlab;

TEST_CASE("R-CNN (staged: selective search, cnn_crop fine-tuned, linear SVMs with mining, box regression) learns the synthetic shapes: AP50 >= 0.7", "[detectors][e2e][rcnn]") {
  const RunConfig rc = load_run_config(std::string(DETLAB_REPO_ROOT) + "/experiments/synthetic/rcnn.yaml");
  std::unique_ptr<Detector> det = build_detector(rc);
  TrainRunOptions to;
  to.out_dir = test::temp_dir("rcnn_e2e");
  // One LibTorch thread: on a loaded 2-core machine libgomp's spin-waiting barriers made two threads 2-3x slower
  // (and inference after training 40x slower) than one.
  to.threads = 1;
  const TrainReport tr = train_run(rc, *det, to);
  std::unique_ptr<Detector> loaded = load_trained(rc, to.out_dir);
  EvalRunOptions eo;
  eo.out_dir = to.out_dir;
  const EvalReport er = evaluate_run(rc, *loaded, eo);
  const double ap50 = er.evaluation.metrics.coco_stat("AP50");
  WARN("rcnn e2e: trained in " << tr.train_seconds << " s (" << tr.num_parameters << " parameters), COCO AP50 "
                                  << ap50 << ", AP " << er.evaluation.metrics.coco_stat("AP") << ", "
                                  << er.ms_per_image << " ms per image");
  REQUIRE(er.images == 40);
  CHECK(ap50 >= 0.7);
  for (int i = 0; i < 3; ++i) {
    const Image img{rc.dataset.images[i].name, rc.dataset.load_image(i)};
    test::check_detections_contract(loaded->detect(img), img.bgr.cols, img.bgr.rows, rc.dataset.num_classes());
  }
}
