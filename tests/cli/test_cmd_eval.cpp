// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab eval in both modes: the devkit's VOC APs on a VOC folder (tests/data/voc2012-sample/devkit), the same
// files and numbers from `eval CONFIG --model` and `eval --gt --dt`, evaluation flags over the eval section.
#include <catch2/catch.hpp>

#include "core/atomic_file.h"
#include "data/formats.h"
#include "data/synthetic.h"
#include "eval/metrics.h"
#include "eval/voc_devkit_fixture.h"
#include "support/cli_runner.h"

using namespace detlab;
using namespace detlab::testing;
namespace fs = std::filesystem;

namespace {

/// The devkit fixture's detections keyed to the VOC folder's own reading, as detlab would have written them.
fs::path devkit_detections_for_voc_folder(const fs::path& dir) {
  const Dataset gt = read_voc(voc_sample());
  const Dataset coco = read_coco(voc_sample("coco/coco_format_v1/instances_default.json"));
  const fs::path file = dir / "dets.json";
  write_coco_results(file, gt, rekey(read_coco_results(voc_sample("devkit/detections.json"), coco), coco, gt));
  return file;
}

std::string tiny_config(const fs::path& data, const std::string& eval) {
  return "name: tiny_eval\n"
         "dataset: {path: " + data.string() + ", format: voc, train: all, test: all}\n"
         "detector:\n"
         "  type: staged\n"
         "  proposals: {type: sliding_window, windows: auto, window_area: 1024}\n"
         "  features: {type: hog, backend: dlib}\n"
         "  classifier: {type: linear_svm, C: 1, mining: {rounds: 1}}\n"
         "  postprocess: {score_thresh: -1, pre_nms_top_k: 500}\n"
         "eval: " + eval + "\n";
}

}  // namespace

TEST_CASE("detlab eval --gt VOC folder --dt: voc_eval.py's APs, --plus-one for inclusive boxes", "[cli][eval]") {
  TempDir tmp("detlab_test_cli_eval_devkit");
  const fs::path dets = devkit_detections_for_voc_folder(tmp.path);
  const CliResult r = detlab_run({"eval", "--gt", voc_sample().string(), "--dt", dets.string(), "--out",
                                  (tmp.path / "out").string(), "--protocol", "voc07,voc12", "--classes"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("| car |") != std::string::npos);  // --classes prints the per-class table
  const Metrics m = read_metrics_json(tmp.path / "out" / "metrics.json");
  const DevkitExpected e = devkit_expected("50");
  REQUIRE(m.voc07);
  REQUIRE(m.voc12);
  for (size_t k = 0; k < m.class_names.size(); ++k) {
    INFO(m.class_names[k]);
    CHECK(m.voc07->per_class[k] == Approx(e.per_class.at("voc07").at(m.class_names[k])).margin(1e-9).epsilon(0));
    CHECK(m.voc12->per_class[k] == Approx(e.per_class.at("voc12").at(m.class_names[k])).margin(1e-9).epsilon(0));
  }
  CHECK(m.voc07->map == Approx(e.map.at("voc07")).margin(1e-9).epsilon(0));
  CHECK_FALSE(m.coco);
  for (const char* f : {"class_ap.md", "class_ap.csv", "pr/car.csv"}) CHECK(fs::exists(tmp.path / "out" / f));
  CHECK_FALSE(fs::exists(tmp.path / "out" / "tide.txt"));

  // The same file with the +1 on top counts a pixel twice: another mAP. Both switches at once are refused.
  const CliResult plus = detlab_run({"eval", "--gt", voc_sample().string(), "--dt", dets.string(), "--json",
                                     (tmp.path / "plus.json").string(), "--protocol", "voc12", "--plus-one"});
  REQUIRE(plus.code == 0);
  CHECK(read_metrics_json(tmp.path / "plus.json").voc12->map == Approx(0.480409).margin(1e-6));
  const CliResult both = detlab_run({"eval", "--gt", voc_sample().string(), "--dt", dets.string(), "--plus-one",
                                     "--no-plus-one"});
  CHECK(both.code == 2);
  CHECK(both.err.find("--plus-one") != std::string::npos);
  const CliResult bad = detlab_run({"eval", "--gt", voc_sample().string(), "--dt", dets.string(), "--iou", "1.5"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("eval.voc.iou: must be in (0, 1)") != std::string::npos);
}

TEST_CASE("detlab eval CONFIG --model writes the files and numbers of eval --gt --dt, its flags override eval",
          "[cli][eval]") {
  TempDir tmp("detlab_test_cli_eval_model");
  SyntheticOptions so;
  so.num_images = 16;
  so.width = so.height = 128;
  so.min_size = 28;
  so.max_size = 56;
  so.seed = 4;
  write_voc(make_synthetic(so), tmp.path / "data");
  write_file_atomic(tmp.path / "tiny.yaml", tiny_config(tmp.path / "data", "{protocols: [coco, voc07]}"));
  const std::string cfg = (tmp.path / "tiny.yaml").string();
  const CliResult t = detlab_run({"train", cfg, "--out", (tmp.path / "model").string(), "--threads", "2"});
  INFO(t.err);
  REQUIRE(t.code == 0);

  const std::vector<std::string> flags = {"--protocol", "coco,voc07,voc12", "--tide", "--errors", "--score", "0.3",
                                          "--coco-iou", "0.5,0.75", "--iou", "0.6"};
  std::vector<std::string> model_args = {"eval", cfg, "--model", (tmp.path / "model").string(), "--out",
                                         (tmp.path / "e1").string()};
  model_args.insert(model_args.end(), flags.begin(), flags.end());
  const CliResult a = detlab_run(model_args);
  INFO(a.err);
  REQUIRE(a.code == 0);
  std::vector<std::string> file_args = {"eval", "--gt", (tmp.path / "data").string(), "--dt",
                                        (tmp.path / "e1" / "detections.json").string(), "--out",
                                        (tmp.path / "e2").string()};
  file_args.insert(file_args.end(), flags.begin(), flags.end());
  const CliResult b = detlab_run(file_args);
  INFO(b.err);
  REQUIRE(b.code == 0);

  for (const char* f : {"class_ap.md", "class_ap.csv", "tide.txt", "errors.md", "errors.csv", "confusion.csv",
                        "pr/coco_iou0.50.csv", "pr/coco_iou0.75.csv", "pr/ellipse.csv"}) {
    INFO(f);
    REQUIRE(fs::exists(tmp.path / "e1" / f));
    CHECK(read_file(tmp.path / "e1" / f) == read_file(tmp.path / "e2" / f));
  }
  CHECK_FALSE(fs::exists(tmp.path / "e1" / "pr" / "coco_iou0.95.csv"));  // only the thresholds asked for
  const Metrics ma = read_metrics_json(tmp.path / "e1" / "metrics.json");
  const Metrics mb = read_metrics_json(tmp.path / "e2" / "metrics.json");
  REQUIRE(ma.coco);
  CHECK(*ma.coco == *mb.coco);
  CHECK(ma.voc07->map == mb.voc07->map);
  CHECK(ma.voc12->map == mb.voc12->map);
  // AP over the two thresholds asked for: the mean of AP50 and AP75 (every class has ground truth).
  CHECK(ma.coco_stat("AP") == Approx((ma.coco_stat("AP50") + ma.coco_stat("AP75")) / 2).margin(1e-12));
  CHECK(a.out.find("TIDE") != std::string::npos);
  CHECK(a.out.find("Hoiem") != std::string::npos);

  // Without flags the config's eval section decides: coco and voc07 only, no TIDE, no confusion matrix.
  const CliResult plain = detlab_run({"eval", cfg, "--model", (tmp.path / "model").string(), "--out",
                                      (tmp.path / "e3").string()});
  REQUIRE(plain.code == 0);
  const Metrics mc = read_metrics_json(tmp.path / "e3" / "metrics.json");
  CHECK(mc.coco);
  CHECK(mc.voc07);
  CHECK_FALSE(mc.voc12);
  CHECK_FALSE(fs::exists(tmp.path / "e3" / "tide.txt"));
  CHECK_FALSE(fs::exists(tmp.path / "e3" / "errors.csv"));
  CHECK(fs::exists(tmp.path / "e3" / "pr" / "coco_iou0.95.csv"));
}
