// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Benchmark: the end-to-end trainings of the test suite (experiments/synthetic/*.yaml), timed against the
// budgets they must fit for `make test` to stay within CI's time (the tests themselves assert accuracy only).
//
// Usage: bench_e2e [--threads N] [STEM ...]      (default: every stem below, with the tests' thread counts)
//
// Per config: training wall seconds, process CPU seconds of training (a loaded machine inflates wall time,
// not CPU time), COCO AP50 on the 40 held-out images, and the CPU-time budget: the share of CI's 90 minutes
// that one e2e test may take on a 2-core machine. "over" marks a training past its budget.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "experiment/run.h"
#include "pipeline/runtime.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

struct Case {
  const char* stem;
  int threads;         // as the e2e test runs it
  double cpu_budget;   // CPU seconds
};

// The budgets the e2e tests asserted before timing moved here (tests/detectors/test_*_e2e.cpp).
const Case kCases[] = {{"hog_svm", 2, 120},   {"yolo", 2, 360},      {"ssd", 2, 360},         {"ssdlite", 2, 360},
                       {"retinanet", 1, 600}, {"detr", 1, 360},      {"fast_rcnn", 1, 360},   {"faster_rcnn", 1, 360},
                       {"rcnn", 1, 360}};

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  std::vector<std::string> stems;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else
      stems.emplace_back(argv[i]);
  }
  std::printf("%-12s %7s %10s %10s %10s %8s\n", "config", "threads", "train s", "CPU s", "budget", "AP50");
  const fs::path tmp = fs::temp_directory_path() / "detlab_bench_e2e";
  for (const Case& c : kCases) {
    if (!stems.empty() && std::find(stems.begin(), stems.end(), c.stem) == stems.end()) continue;
    const int t = threads > 0 ? threads : c.threads;
    set_library_threads(t);
    const RunConfig rc = load_run_config(fs::path(DETLAB_REPO_ROOT) / "experiments" / "synthetic" / (std::string(c.stem) + ".yaml"));
    std::unique_ptr<Detector> det = build_detector(rc);
    fs::remove_all(tmp / c.stem);
    TrainRunOptions to;
    to.out_dir = tmp / c.stem;
    to.threads = t;
    const std::clock_t cpu0 = std::clock();
    const TrainReport tr = train_run(rc, *det, to);
    const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    EvalRunOptions eo;
    eo.threads = t;
    const EvalReport er = evaluate_run(rc, *det, eo);
    std::printf("%-12s %7d %10.1f %10.1f %10.0f %8.3f%s\n", c.stem, t, tr.train_seconds, cpu, c.cpu_budget,
                er.evaluation.metrics.coco_stat("AP50"), cpu > c.cpu_budget ? "  over" : "");
    std::fflush(stdout);
    fs::remove_all(tmp / c.stem);
  }
  return 0;
}
