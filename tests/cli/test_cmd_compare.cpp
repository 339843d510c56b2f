// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab compare / ablate / plot in-process: printed tables, reuse on rerun, exit code 2 with one line for bad
// specs and arguments.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "support/cli_runner.h"
#include "support/tiny_configs.h"
#include "core/atomic_file.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

using Result = testing::CliResult;
using testing::detlab_run;

const fs::path& workdir() {
  static const fs::path d = [] {
    const fs::path p = fs::temp_directory_path() / ("detlab_test_cli_compare_" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    write_file_atomic(p / "tiny.yaml", testing::kTinyHogSvm);
    write_file_atomic(p / "spec.yaml", "name: tiny_cli\nentries:\n  - {label: HOG+SVM, config: " +
                                           (p / "tiny.yaml").string() +
                                           "}\n  - {label: Soft, config: " + (p / "tiny.yaml").string() +
                                           ", set: [detector.postprocess.soft_nms=true]}\n"
                                           "quick: {only: [HOG+SVM], max_images: 3}\n");
    return p;
  }();
  return d;
}

std::string path(const std::string& name) { return (workdir() / name).string(); }

}  // namespace

TEST_CASE("detlab compare --quick prints the table, a rerun reuses the entry", "[cli][compare]") {
  const Result r = detlab_run({"compare", path("spec.yaml"), "--quick", "--no-plots", "--threads", "2", "--out",
                               path("quick")});
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("| Detector | AP |") != std::string::npos);
  REQUIRE(r.out.find("| HOG+SVM |") != std::string::npos);
  REQUIRE(r.out.find("| Soft |") == std::string::npos);  // not in quick.only
  REQUIRE(r.out.find("wrote " + path("quick")) != std::string::npos);
  REQUIRE(r.err.find("trained, evaluated") != std::string::npos);
  const Result again = detlab_run({"compare", path("spec.yaml"), "--quick", "--no-plots", "--out", path("quick")});
  REQUIRE(again.code == 0);
  REQUIRE(again.err.find("reused the model and the evaluation") != std::string::npos);
  // Only 3 test images were scored (quick.max_images).
  REQUIRE(read_file(workdir() / "quick/entries/hog_svm/seed_0/metrics.json").find("\"images\": 3") != std::string::npos);
}

TEST_CASE("detlab ablate runs a grid with seeds from one command and reuses it on rerun", "[cli][ablate]") {
  const std::vector<std::string> args = {"ablate", path("tiny.yaml"), "--grid", "detector.postprocess.nms_iou=0.3,0.6",
                                         "--seeds", "2", "--eval-only", "detector.postprocess", "--no-plots",
                                         "--threads", "2", "--out", path("abl")};
  const Result r = detlab_run(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("points: 4 run by this invocation: 0 reused, 2 trained, 4 evaluated, 0 failed") != std::string::npos);
  REQUIRE(r.out.find("| nms_iou | seeds | AP |") != std::string::npos);
  REQUIRE(r.out.find("| 0.6 | 2 | ") != std::string::npos);
  REQUIRE(r.out.find(" \xC2\xB1 ") != std::string::npos);
  const Result again = detlab_run(args);
  REQUIRE(again.code == 0);
  REQUIRE(again.out.find("4 reused, 0 trained, 0 evaluated") != std::string::npos);
  const Result collect = detlab_run({"ablate", "--collect", "--out", path("abl"), "--no-plots"});
  REQUIRE(collect.code == 0);
  REQUIRE(collect.out.find("4 of 4 points finished") != std::string::npos);
  // --dry-run checks each point's config and knows what is finished; a third value would be the only work.
  std::vector<std::string> dry = args;
  dry[3] = "detector.postprocess.nms_iou=0.3,0.6,0.9";
  dry.push_back("--dry-run");
  const Result d = detlab_run(dry);
  REQUIRE(d.code == 0);
  REQUIRE(d.out.find("2 point(s) to run, 0 with errors") != std::string::npos);
  REQUIRE(d.out.find("nms_iou=0_9_seed1_") != std::string::npos);
  dry[3] = "detector.postprocess.nms_iuo=0.3";
  const Result bad = detlab_run(dry);
  REQUIRE(bad.code == 2);
  REQUIRE(bad.out.find("error: ") != std::string::npos);
  REQUIRE(bad.out.find("nms_iuo") != std::string::npos);
}

TEST_CASE("compare / ablate / plot: bad input exits 2 with one line", "[cli][compare]") {
  write_file_atomic(workdir() / "typo.yaml", "name: x\nentries: [{label: a, config: a.yaml}]\nseeds: [0]\nplot: {}\n");
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"compare", path("nope.yaml")}, "nope.yaml: not found"},
      {{"compare", path("typo.yaml")}, "plot: unknown key"},
      {{"ablate", path("tiny.yaml"), "--grid", "detector.postprocess.nms_iou"}, "--grid"},
      {{"ablate", path("tiny.yaml"), "--grid", "a=1", "--shard", "2/2"}, "--shard: 2/2"},
      {{"ablate", "--collect"}, "CONFIG"},
      {{"ablate", "--collect", "--out", path("nothing")}, "ablation.json: not found"},
      {{"plot", workdir().string()}, "not a results folder"},
  };
  for (const Case& c : cases) {
    const Result r = detlab_run(c.args);
    INFO(c.args[0] << " " << c.args[1] << ": " << r.err);
    REQUIRE(r.code == 2);
    REQUIRE(r.err.find(c.expect) != std::string::npos);
    REQUIRE(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  // A grid point whose key is misspelled fails its points, is reported, and the command exits 2.
  const Result bad = detlab_run({"ablate", path("tiny.yaml"), "--grid", "detector.postprocess.nms_iuo=0.3",
                                 "--no-plots", "--out", path("abl_bad")});
  REQUIRE(bad.code == 2);
  REQUIRE(bad.err.find("detector.postprocess.nms_iuo") != std::string::npos);
}
