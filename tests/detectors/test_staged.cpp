// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// staged detector: build from YAML, fit, detect (contracts, stage times), save / load, refusals.
#include <catch2/catch.hpp>

#include <fstream>

#include "core/error.h"
#include "detectors/detector_test_util.h"
#include "detectors/staged.h"
#include "pipeline/model_dir.h"
#include "pipeline/registries.h"

using namespace detlab;

namespace {

const char* kStagedYaml = R"(
type: staged
proposals: {type: sliding_window, windows: auto, window_area: 1024}
features: {type: hog, backend: dlib}
classifier: {type: linear_svm, C: 1, mining: {rounds: 1, hard_negatives_per_image: 10}, box_regression: {}}
postprocess: {nms_iou: 0.3, score_thresh: 0.2, max_per_image: 20, pre_nms_top_k: 500}
)";

std::unique_ptr<Detector> build(const std::string& yaml, const std::vector<std::string>& classes) {
  BuildContext ctx;
  ctx.registries = &builtin_registries();
  ctx.class_names = classes;
  return ctx.registries->detectors.build(Config::parse(yaml, "staged.yaml"), ctx);
}

}  // namespace

TEST_CASE("staged detector trains, detects, saves and loads", "[detectors][staged]") {
  const Dataset ds = test::tiny_synthetic(24);
  const Dataset train = ds.subset("train");
  auto det = build(kStagedYaml, ds.class_names);
  REQUIRE(det->name() == "staged");
  REQUIRE(det->num_classes() == 2);
  TrainContext tc;
  tc.train = &train;
  tc.threads = 2;
  det->fit(tc);
  REQUIRE(det->num_parameters() > 0);

  const Dataset test = ds.subset("test");
  std::vector<Detections> before;
  for (size_t i = 0; i < test.images.size(); ++i) {
    StageTimes times;
    const Image img{test.images[i].name, test.load_image(i)};
    Detections d = det->detect(img, &times);
    test::check_detections_contract(d, img.bgr.cols, img.bgr.rows, 2, 20);
    std::vector<std::string> stages;
    for (const auto& t : times) {
      stages.push_back(t.first);
      REQUIRE(t.second >= 0);
    }
    REQUIRE(stages == std::vector<std::string>{"proposals", "features", "classifier", "post"});
    before.push_back(std::move(d));
  }

  const auto dir = test::temp_dir("staged_model");
  det->save(dir);
  auto loaded = build(kStagedYaml, ds.class_names);
  loaded->load(dir);
  for (size_t i = 0; i < test.images.size(); ++i) {
    const Detections d = loaded->detect(Image{test.images[i].name, test.load_image(i)});
    REQUIRE(d.size() == before[i].size());
    for (size_t k = 0; k < d.size(); ++k) {
      REQUIRE(d[k].box == before[i][k].box);
      REQUIRE(d[k].score == before[i][k].score);
      REQUIRE(d[k].label == before[i][k].label);
    }
  }

  // Refusals name the file: other classes, another header version, a missing stage file.
  REQUIRE_THROWS_WITH(build(kStagedYaml, {"a", "b"})->load(dir), Catch::Contains("class_names"));
  auto h = read_model_header(dir, "staged", {}, "");
  h.format_version = 2;
  write_model_header(dir, h);
  REQUIRE_THROWS_WITH(build(kStagedYaml, ds.class_names)->load(dir), Catch::Contains("format version 2"));
  h.format_version = kModelFormatVersion;
  write_model_header(dir, h);
  std::filesystem::remove(dir / "linear_svm.json");
  REQUIRE_THROWS_WITH(build(kStagedYaml, ds.class_names)->load(dir), Catch::Contains("linear_svm.json"));
}

TEST_CASE("staged detector config errors", "[detectors][staged]") {
  // Two fixed windows for three classes: neither one shared window nor one per class.
  REQUIRE_THROWS_WITH(build(R"(
type: staged
proposals: {type: sliding_window, windows: [[32, 32], [64, 32]]}
features: {type: hog}
classifier: {type: linear_svm}
)",
                            {"a", "b", "c"}),
                      Catch::Contains("staged.yaml") && Catch::Contains("window"));
  REQUIRE_THROWS_WITH(build("{type: staged, proposals: {type: sliding_window}, features: {type: hog}}", {"a"}),
                      Catch::Contains("classifier"));
  REQUIRE_THROWS_WITH(
      build("{type: staged, proposals: {type: sliding_windows}, features: {type: hog}, classifier: {type: linear_svm}}",
            {"a"}),
      Catch::Contains("unknown proposal stage 'sliding_windows'"));
  REQUIRE_THROWS_WITH(
      build("{type: staged, proposals: {type: sliding_window}, features: {type: hog, cel: 8}, classifier: {type: "
            "linear_svm}}",
            {"a"}),
      Catch::Contains("features.cel"));
  REQUIRE_THROWS_WITH(build("{type: staged, proposals: {type: sliding_window}, features: {type: hog}, classifier: "
                            "{type: linear_svm}, postprocess: {nms: 0.3}}",
                            {"a"}),
                      Catch::Contains("postprocess.nms"));
}
