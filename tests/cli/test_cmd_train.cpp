// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab train / eval --model / detect / eval-proposals in-process: outputs, and exit code 2 with one line
// for bad configs (unknown stage, wrong key, missing model, model file of another version).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "cli/command.h"
#include "support/cli_runner.h"
#include "support/tiny_configs.h"
#include "core/atomic_file.h"
#include "core/hash.h"
#include "data/synthetic.h"
#include "pipeline/model_dir.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

using Result = testing::CliResult;
using testing::detlab_run;

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

/// Error output without warnings (the config-hash warning of a --set that changes post-processing).
std::string errors_only(const std::string& err) {
  std::istringstream in(err);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind("warning:", 0) != 0) out += line + "\n";
  return out;
}

const fs::path& workdir() {
  static const fs::path d = [] {
    const fs::path p = fs::temp_directory_path() / ("detlab_test_cli_train_" + std::to_string(::getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    write_file_atomic(p / "tiny.yaml", testing::kTinyHogSvm);
    return p;
  }();
  return d;
}

std::string cfg() { return (workdir() / "tiny.yaml").string(); }
std::string model() { return (workdir() / "model").string(); }

void ensure_trained() {
  if (fs::exists(workdir() / "model" / "detector.json")) return;
  const Result r = detlab_run({"train", cfg(), "--out", model(), "--threads", "2"});
  INFO(r.err);
  REQUIRE(r.code == 0);
}

}  // namespace

TEST_CASE("detlab train writes a model folder, eval --model and detect use it", "[cli][train]") {
  ensure_trained();
  for (const char* f : {"detector.json", "config.yaml", "train.json", "train_log.csv", "linear_svm.json",
                        "sliding_window.json"})
    REQUIRE(fs::exists(workdir() / "model" / f));

  const Result e = detlab_run({"eval", cfg(), "--model", model(), "--out", (workdir() / "eval").string()});
  INFO(e.err);
  REQUIRE(e.code == 0);
  REQUIRE(e.out.find("Average Precision") != std::string::npos);
  REQUIRE(fs::exists(workdir() / "eval" / "metrics.json"));
  REQUIRE(fs::exists(workdir() / "eval" / "detections.json"));

  // detect: two image files -> two PNGs and one COCO results file.
  SyntheticOptions so;
  so.num_images = 2;
  so.width = so.height = 128;
  so.seed = 9;
  const Dataset ds = make_synthetic(so);
  std::vector<std::string> args = {"detect", cfg(), "--model", model(), "--out", (workdir() / "detect").string()};
  for (size_t i = 0; i < 2; ++i) {
    const fs::path png = workdir() / (ds.images[i].name + ".png");
    cv::imwrite(png.string(), ds.load_image(i));
    args.push_back(png.string());
  }
  const Result d = detlab_run(args);
  INFO(d.err);
  REQUIRE(d.code == 0);
  REQUIRE(fs::exists(workdir() / "detect" / (ds.images[0].name + ".png")));
  REQUIRE(fs::exists(workdir() / "detect" / "detections.json"));
  REQUIRE(cv::imread((workdir() / "detect" / (ds.images[1].name + ".png")).string()).cols == 128);
}

TEST_CASE("detlab eval-proposals reports recall and saves a cache the precomputed stage reads", "[cli][train]") {
  const fs::path cache = workdir() / "props.bin";
  const Result r = detlab_run({"eval-proposals", cfg(), "--set",
                               "detector.proposals={type: selective_search, mode: fast, max_proposals: 200}",
                               "--split", "all", "--save", cache.string(), "--out", (workdir() / "props").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(r.out.find("seconds per image") != std::string::npos);
  REQUIRE(fs::exists(cache));
  REQUIRE(fs::exists(workdir() / "props" / "proposal_recall.json"));
  const Result p = detlab_run({"eval-proposals", cfg(), "--set",
                               "detector.proposals={type: precomputed, path: " + cache.string() + "}", "--split", "all"});
  INFO(p.err);
  REQUIRE(p.code == 0);
  // The same boxes (rounded to pixels) give the same recall table.
  REQUIRE(p.out.substr(p.out.find("R@0.5")) .substr(0, 200) == r.out.substr(r.out.find("R@0.5")).substr(0, 200));
}

TEST_CASE("bad configs and models: exit code 2 and one line", "[cli][train]") {
  ensure_trained();
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"train", cfg(), "--set", "detector.proposals.type=sliding_windows", "--out", (workdir() / "x").string()},
       "unknown proposal stage 'sliding_windows'"},
      {{"train", cfg(), "--set", "detector.features.cel=8", "--out", (workdir() / "x").string()},
       "detector.features.cel"},
      {{"train", (workdir() / "nope.yaml").string()}, "nope.yaml"},
      {{"eval", cfg(), "--model", (workdir() / "no_model").string()}, "model folder not found"},
      {{"detect", cfg(), "--model", (workdir() / "no_model").string(), "--out", (workdir() / "d").string(),
        (workdir() / "x.png").string()},
       "model folder not found"},
      {{"eval-proposals", cfg(), "--set", "detector.proposals.type=ssearch"}, "unknown proposal stage 'ssearch'"},
  };
  for (const Case& c : cases) {
    const Result r = detlab_run(c.args);
    INFO(c.args[0] << ": " << r.err);
    REQUIRE(r.code == 2);
    REQUIRE(lines(errors_only(r.err)) == 1);
    REQUIRE(r.err.find(c.expect) != std::string::npos);
    REQUIRE(r.err.find("internal error") == std::string::npos);
  }
  REQUIRE(!fs::exists(workdir() / "x" / "detector.json"));

  // Model files of another version, and a missing stage file.
  const fs::path copy = workdir() / "model_v2";
  fs::remove_all(copy);
  fs::copy(workdir() / "model", copy);
  auto j = read_versioned_json(copy / "linear_svm.json", "linear_svm", 1);
  write_versioned_json(copy / "linear_svm.json", "linear_svm", 2, j);
  Result r = detlab_run({"eval", cfg(), "--model", copy.string()});
  REQUIRE(r.code == 2);
  REQUIRE(lines(errors_only(r.err)) == 1);
  REQUIRE(r.err.find("linear_svm.json: content does not match its checksum") != std::string::npos);
  {  // the same file with its checksum brought up to date: now its version is what is refused
    nlohmann::json header = nlohmann::json::parse(read_file(copy / "detector.json"));
    header["checksums"]["linear_svm.json"] = file_content_hash(copy / "linear_svm.json");
    write_file_atomic(copy / "detector.json", header.dump(2));
  }
  r = detlab_run({"eval", cfg(), "--model", copy.string()});
  REQUIRE(r.code == 2);
  REQUIRE(lines(errors_only(r.err)) == 1);
  REQUIRE(r.err.find("linear_svm.json: format_version: unsupported linear_svm version 2") != std::string::npos);

  auto h = read_model_header(copy, "staged", {}, "");
  h.format_version = 3;
  write_model_header(copy, h);
  r = detlab_run({"eval", cfg(), "--model", copy.string()});
  REQUIRE(r.code == 2);
  REQUIRE(r.err.find("detector.json: format_version: unsupported model format version 3") != std::string::npos);

  h.format_version = kModelFormatVersion;
  write_model_header(copy, h);
  fs::remove(copy / "sliding_window.json");
  r = detlab_run({"eval", cfg(), "--model", copy.string()});
  REQUIRE(r.code == 2);
  REQUIRE(r.err.find("sliding_window.json") != std::string::npos);
}
