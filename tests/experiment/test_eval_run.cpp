// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// evaluate_run, the path of every detlab detector: on a VOC folder its VOC APs are voc_eval.py's (the devkit
// fixture), the config's eval section picks protocols, options and files, and the threads in use are recorded.
#include <catch2/catch.hpp>

#include <map>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "data/formats.h"
#include "eval/voc_devkit_fixture.h"
#include "experiment/run.h"
#include "pipeline/runtime.h"
#include "support/cli_runner.h"

using namespace detlab;
using namespace detlab::testing;
namespace fs = std::filesystem;

namespace {

/// A detector that answers with given detections per image name: the harness cannot tell it from a trained one.
class ReplayDetector final : public Detector {
 public:
  explicit ReplayDetector(std::map<std::string, Detections> by_name) : by_name_(std::move(by_name)) {}
  Detections detect(const Image& image, StageTimes* times) override {
    if (times) times->emplace_back("replay", 0.0);
    const auto it = by_name_.find(image.id);
    return it == by_name_.end() ? Detections{} : it->second;
  }
  std::string_view name() const override { return "replay"; }
  int num_classes() const override { return 20; }
  void save(const fs::path&) const override {}
  void load(const fs::path&) override {}

 private:
  std::map<std::string, Detections> by_name_;
};

ReplayDetector devkit_detector(const Dataset& gt) {
  const Dataset coco = read_coco(voc_sample("coco/coco_format_v1/instances_default.json"));
  std::map<std::string, Detections> by_name;
  for (const ImageDetections& d : rekey(read_coco_results(voc_sample("devkit/detections.json"), coco), coco, gt))
    by_name[gt.images.at(gt.find_image(d.image_id)).name] = d.dets;
  return ReplayDetector(by_name);
}

RunConfig voc_config(const std::string& eval) {
  return parse_run_config("dataset: {path: " + voc_sample().string() +
                          ", format: voc, train: all, test: all}\ndetector: {type: replay}\neval: " + eval + "\n");
}

}  // namespace

TEST_CASE("evaluate_run on a VOC folder gives voc_eval.py's APs for a detector's own detections",
          "[experiment][eval_run]") {
  const RunConfig rc = voc_config("{protocols: [voc07, voc12], voc: {iou: 0.7}}");
  ReplayDetector det = devkit_detector(rc.dataset);
  EvalRunOptions o;
  o.split = "all";
  o.threads = 2;
  const EvalReport r = evaluate_run(rc, det, o);
  REQUIRE(r.images == 100);
  const DevkitExpected e = devkit_expected("70");
  check_devkit(*r.evaluation.voc07, rc.dataset.class_names, e, "voc07");
  check_devkit(*r.evaluation.voc12, rc.dataset.class_names, e, "voc12");
  CHECK_FALSE(r.evaluation.coco);

  // eval.voc.plus_one: true is the devkit's formula on these continuous boxes: a pixel counted twice.
  const RunConfig plus = voc_config("{protocols: [voc12], voc: {plus_one: true}}");
  const EvalReport p = evaluate_run(plus, det, o);
  CHECK(p.evaluation.voc12->map == Approx(0.480409).margin(1e-6));
}

TEST_CASE("evaluate_run writes the files the eval section asks for and the threads in use", "[experiment][eval_run]") {
  const RunConfig rc = voc_config(
      "{protocols: [coco, voc07], coco: {iou_thresholds: [0.5, 0.75], max_dets: [1, 100]}, tide: true, "
      "confusion: {score: 0.2, iou: 0.4}, errors: {similar: [[car, bus], [cat, dog]]}}");
  ReplayDetector det = devkit_detector(rc.dataset);
  TempDir tmp("detlab_test_eval_run");
  EvalRunOptions o;
  o.split = "all";
  o.out_dir = tmp.path;
  o.threads = 1;
  set_library_threads(1);
  const EvalReport r = evaluate_run(rc, det, o);
  for (const char* f : {"metrics.json", "detections.json", "class_ap.md", "class_ap.csv", "tide.txt", "confusion.csv",
                        "errors.md", "errors.csv", "pr/coco_iou0.50.csv", "pr/coco_iou0.75.csv", "pr/car.csv"})
    CHECK(fs::exists(tmp.path / f));
  CHECK(r.text.find("TIDE") != std::string::npos);
  CHECK(r.text.find("Hoiem") != std::string::npos);
  // A similar group naming a class the data set lacks is refused when the classes are known.
  const RunConfig unknown = voc_config("{errors: {similar: [[car, zeppelin]]}}");
  EvalRunOptions no_files;
  no_files.split = "all";
  no_files.threads = 1;
  CHECK_THROWS_WITH(evaluate_run(unknown, det, no_files), Catch::Contains("'zeppelin' is not a class"));
  CHECK(r.evaluation.coco->options.max_dets == std::vector<int>{1, 100});
  const nlohmann::json extra = nlohmann::json::parse(read_file(tmp.path / "metrics.json")).at("extra");
  CHECK(extra.at("threads").at("opencv") == 1);
  CHECK(r.threads.matches(1));
}

TEST_CASE("the eval section refuses values outside their domain, naming the key", "[experiment][eval_run]") {
  for (const auto& [eval, message] : std::vector<std::pair<std::string, std::string>>{
           {"{voc: {iou: 1.5}}", "eval.voc.iou: must be in (0, 1)"},
           {"{coco: {iou_thresholds: [0.75, 0.5]}}", "eval.coco.iou_thresholds: thresholds must be ascending"},
           {"{coco: {max_dets: [10, 0]}}", "eval.coco.max_dets: values must be positive and ascending"},
           {"{coco: {area_ranges: [[all, 10, 5]]}}", "eval.coco.area_ranges: range 'all' needs 0 <= min <= max"},
           {"{confusion: {score: .nan}}", "eval.confusion.score: must be finite"},
           {"{tide: maybe}", "eval.tide"},
           {"{errors: {iou: 1}}", "eval.errors.iou: must be in (0, 1)"},
           {"{errors: {min_overlap: 0.6}}", "eval.errors.min_overlap: must be in [0, iou)"},
           {"{errors: {similar: [[car]]}}", "eval.errors.similar: each group is a list of at least two class names"},
           {"{errors: {top: -1}}", "eval.errors.top"},
           {"{voc: {plus_on: true}}", "eval.voc.plus_on"}}) {
    INFO(eval);
    CHECK_THROWS_WITH(voc_config(eval), Catch::Contains(message));
  }
}
