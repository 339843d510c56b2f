// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// --threads N is applied once per command to OpenCV, OpenBLAS and LibTorch, and every command runs its work
// with that count: train, eval (model and files), detect, compare and ablate record or print what was in use.
#include <catch2/catch.hpp>

#include <opencv2/imgcodecs.hpp>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "data/synthetic.h"
#include "pipeline/runtime.h"
#include "support/cli_runner.h"
#include "support/tiny_configs.h"

using namespace detlab;
using namespace detlab::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// The library pools in a recorded {"opencv", "openblas", "torch"} object all equal n (a library that is not
/// loaded records 0). LibTorch is linked into this test binary, so it must be there.
void check_threads(const json& t, int n) {
  INFO(t.dump());
  CHECK(t.at("opencv") == n);
  CHECK((t.at("openblas") == n || t.at("openblas") == 0));
  CHECK(t.at("torch") == n);
}

}  // namespace

TEST_CASE("the threads option reaches every library in train, eval, detect, compare and ablate", "[cli][threads]") {
  TempDir tmp("detlab_test_cli_threads");
  write_file_atomic(tmp.path / "tiny.yaml", kTinyHogSvm);
  const std::string cfg = (tmp.path / "tiny.yaml").string();
  SyntheticOptions so;
  so.num_images = 1;
  so.width = so.height = 96;
  const Dataset one = make_synthetic(so);
  const fs::path png = tmp.path / "image.png";
  cv::imwrite(png.string(), one.load_image(0));
  write_file_atomic(tmp.path / "spec.yaml", "name: threads\nentries:\n  - {label: HOG, config: " + cfg + "}\n");

  for (int n : {1, 2}) {
    INFO("--threads " << n);
    const std::string threads = std::to_string(n);
    const fs::path model = tmp.path / ("model" + threads);
    const CliResult t = detlab_run({"train", cfg, "--out", model.string(), "--threads", threads});
    INFO(t.err);
    REQUIRE(t.code == 0);
    check_threads(json::parse(read_file(model / "train.json")).at("library_threads"), n);

    const CliResult e = detlab_run({"eval", cfg, "--model", model.string(), "--threads", threads});
    REQUIRE(e.code == 0);
    check_threads(json::parse(read_file(model / "metrics.json")).at("extra").at("threads"), n);
    CHECK(e.out.find("threads: OpenCV " + threads) != std::string::npos);

    const CliResult d = detlab_run({"detect", cfg, "--model", model.string(), png.string(), "--out",
                                    (tmp.path / ("detect" + threads)).string(), "--threads", threads});
    REQUIRE(d.code == 0);
    CHECK(d.out.find("threads: OpenCV " + threads) != std::string::npos);
    CHECK(d.out.find("LibTorch " + threads) != std::string::npos);
    CHECK(library_threads().matches(n));

    const fs::path cmp = tmp.path / ("compare" + threads);
    const CliResult c = detlab_run({"compare", (tmp.path / "spec.yaml").string(), "--no-plots", "--out", cmp.string(),
                                    "--threads", threads});
    INFO(c.err);
    REQUIRE(c.code == 0);
    const json cm = json::parse(read_file(cmp / "entries" / "hog" / "seed_0" / "manifest.json"));
    check_threads(cm.at("train").at("library_threads"), n);
    check_threads(cm.at("eval").at("library_threads"), n);
    CHECK(json::parse(read_file(cmp / "manifest.json")).at("threads") == n);
    CHECK(read_file(cmp / "table.md").find("Timings with " + threads + " thread") != std::string::npos);

    const fs::path abl = tmp.path / ("ablation" + threads);
    const CliResult a = detlab_run({"ablate", cfg, "--grid", "detector.classifier.C=1", "--out", abl.string(),
                                    "--no-plots", "--threads", threads});
    INFO(a.err);
    REQUIRE(a.code == 0);
    for (const auto& p : fs::directory_iterator(abl / "points")) {
      const json pm = json::parse(read_file(p.path() / "manifest.json"));
      check_threads(pm.at("eval").at("library_threads"), n);
    }
  }

  // The default, 0, is every hardware thread (not LibTorch's own default).
  const CliResult e0 = detlab_run({"eval", cfg, "--model", (tmp.path / "model1").string()});
  REQUIRE(e0.code == 0);
  check_threads(json::parse(read_file(tmp.path / "model1" / "metrics.json")).at("extra").at("threads"),
                resolve_thread_count(0));
}
