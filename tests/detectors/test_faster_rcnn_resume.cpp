// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// A Faster R-CNN training killed with SIGKILL after its first checkpoint and resumed with `detlab train --resume`
// ends with the weights and metrics of an uninterrupted run (the detlab executable, as a user runs it).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "detectors/detector_test_util.h"
#include "nn/weights/weight_file.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

/// `detlab train` on experiments/synthetic/faster_rcnn.yaml shrunk to a few dozen iterations on 30 images,
/// a checkpoint every 10 iterations, one LibTorch thread (a resumed run must use the thread count of the first).
std::vector<std::string> train_args(const fs::path& out) {
  return {std::string(DETLAB_BUILD_DIR) + "/src/cli/detlab",
          "train",
          std::string(DETLAB_REPO_ROOT) + "/experiments/synthetic/faster_rcnn.yaml",
          "--set", "dataset.num_images=30",
          "--set", "detector.train.iterations=40",
          "--set", "detector.train.checkpoint_every=10",
          "--set", "detector.train.log_every=10",
          "--set", "detector.train.warmup_iters=5",
          "--threads", "1",
          "--quiet",
          "--eval",
          "--out", out.string()};
}

pid_t spawn(std::vector<std::string> args) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

nlohmann::json coco_metrics(const fs::path& dir) {
  std::ifstream in(dir / "metrics.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in).at("coco");
}

}  // namespace

TEST_CASE("Faster R-CNN killed with SIGKILL and resumed ends as an uninterrupted run", "[detectors][faster_rcnn][resume]") {
  const fs::path root = test::temp_dir("faster_rcnn_resume");
  const fs::path whole = root / "uninterrupted", killed = root / "killed";
  REQUIRE(fs::exists(std::string(DETLAB_BUILD_DIR) + "/src/cli/detlab"));

  REQUIRE(wait_exit(spawn(train_args(whole))) == 0);

  // Kill the second run as soon as its first checkpoint is on disk.
  const pid_t pid = spawn(train_args(killed));
  const fs::path latest = killed / "checkpoints" / "latest";
  const auto start = std::chrono::steady_clock::now();
  while (!fs::exists(latest) && std::chrono::steady_clock::now() - start < std::chrono::minutes(5))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(fs::exists(latest));
  ::kill(pid, SIGKILL);
  REQUIRE(wait_exit(pid) == -SIGKILL);
  INFO("killed after " << std::ifstream(latest).rdbuf());
  REQUIRE_FALSE(fs::exists(killed / "detector.json"));  // it really stopped before the end
  REQUIRE_FALSE(fs::exists(killed / "model_final.pt"));

  // Without --resume the folder is refused (exit code 2), with it the run continues.
  std::vector<std::string> again = train_args(killed);
  CHECK(wait_exit(spawn(again)) == 2);
  again.push_back("--resume");
  REQUIRE(wait_exit(spawn(again)) == 0);

  const StateDict a = read_state_dict((whole / "model_final.pt").string());
  const StateDict b = read_state_dict((killed / "model_final.pt").string());
  REQUIRE(a.size() == b.size());
  for (const auto& [key, t] : a) {
    INFO(key);
    REQUIRE(b.count(key));
    CHECK(torch::equal(t, b.at(key)));
  }
  const nlohmann::json ma = coco_metrics(whole), mb = coco_metrics(killed);
  INFO("uninterrupted " << ma.dump() << "\nresumed " << mb.dump());
  CHECK(ma == mb);
}
