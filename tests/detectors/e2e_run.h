// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The end-to-end tests' common run: experiments/synthetic/<stem>.yaml trained with the engine, reloaded from its
// model folder and scored on the held-out test split by the harness, as `detlab train` + `detlab eval` do.
#pragma once

#include <catch2/catch.hpp>

#include <ctime>
#include <iostream>
#include <memory>
#include <string>

#include "detectors/detector_test_util.h"
#include "experiment/run.h"
#include "pipeline/allocator.h"

namespace detlab::test {

struct E2eRun {
  RunConfig rc;
  TrainReport train;
  EvalReport eval;
  std::unique_ptr<Detector> loaded;  // the detector read back from `dir`
  std::filesystem::path dir;
  double cpu_seconds = 0;            // process CPU time of training (a loaded machine does not inflate it)
  double ap50 = 0;                   // COCO AP50 on the test split
};

/// Trains experiments/synthetic/<stem>.yaml with `threads` LibTorch / worker threads (evaluation too), reloads the
/// model and scores it; prints one summary line (training time, AP50, AP, ms per image) whatever the outcome.
inline E2eRun train_and_score(const std::string& stem, int threads) {
  // The allocator setting every command applies (cli/options.cpp), so that the run trains as `detlab train`
  // does (freed training batches stay in the heap instead of being unmapped and mapped again).
  reuse_large_allocations();
  E2eRun r;
  r.rc = load_run_config(std::string(DETLAB_REPO_ROOT) + "/experiments/synthetic/" + stem + ".yaml");
  std::unique_ptr<Detector> det = build_detector(r.rc);
  TrainRunOptions to;
  to.out_dir = r.dir = temp_dir(stem + "_e2e");
  to.threads = threads;
  const std::clock_t cpu0 = std::clock();
  r.train = train_run(r.rc, *det, to);
  r.cpu_seconds = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  r.loaded = load_trained(r.rc, r.dir);
  EvalRunOptions eo;
  eo.out_dir = r.dir;
  eo.threads = threads;
  r.eval = evaluate_run(r.rc, *r.loaded, eo);
  r.ap50 = r.eval.evaluation.metrics.coco_stat("AP50");
  // A summary line on stdout, not a Catch WARN: the caller's assertions decide the outcome.
  std::cout << stem << " e2e: trained in " << r.train.train_seconds << " s (" << r.cpu_seconds << " CPU s, "
            << r.train.num_parameters << " parameters); COCO AP50 " << r.ap50 << ", AP "
            << r.eval.evaluation.metrics.coco_stat("AP") << ", " << r.eval.ms_per_image << " ms per image\n";
  return r;
}

}  // namespace detlab::test
