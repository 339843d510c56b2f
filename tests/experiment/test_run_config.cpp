// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Experiment configs: sections, overrides, splits, and one clear InputError per mistake.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "experiment/run_config.h"

using namespace detlab;

namespace detlab {
// Torch builds put glog's std::vector printer into this test's precompiled header; it prints elements with <<.
inline std::ostream& operator<<(std::ostream& os, Protocol p) { return os << protocol_name(p); }
}  // namespace detlab

namespace {
const char* kYaml = R"(
name: tiny
dataset: {type: synthetic, num_images: 12, width: 96, height: 96, min_size: 24, max_size: 40}
detector:
  type: staged
  proposals: {type: sliding_window}
  features: {type: hog}
  classifier: {type: linear_svm}
eval: {protocols: [coco, voc07], max_images: 3}
)";
}  // namespace

TEST_CASE("run config: data set, splits, eval section, detector", "[experiment][run_config]") {
  const RunConfig rc = parse_run_config(kYaml, {"eval.max_images=2"});
  REQUIRE(rc.name == "tiny");
  REQUIRE(rc.dataset.images.size() == 12);
  REQUIRE(rc.eval.max_images == 2);
  REQUIRE(rc.eval.options.protocols == std::vector<Protocol>{Protocol::kCoco, Protocol::kVoc07});
  REQUIRE(split_of(rc, "train").images.size() + split_of(rc, "val").images.size() +
              split_of(rc, "test").images.size() ==
          12);
  REQUIRE(split_of(rc, "all").images.size() == 12);
  auto det = build_detector(rc);
  REQUIRE(det->name() == "staged");
  REQUIRE(det->num_classes() == 4);
}

TEST_CASE("run config mistakes are one InputError naming the key", "[experiment][run_config]") {
  REQUIRE_THROWS_WITH(parse_run_config(kYaml, {"evall.max_images=2"}), Catch::Contains("evall"));
  REQUIRE_THROWS_WITH(parse_run_config("{name: x, detector: {type: staged}}"), Catch::Contains("dataset"));
  REQUIRE_THROWS_WITH(parse_run_config(kYaml, {"dataset.num_imagez=3"}), Catch::Contains("dataset.num_imagez"));
  REQUIRE_THROWS_WITH(parse_run_config(kYaml, {"dataset.test=holdout"}), Catch::Contains("holdout"));
  REQUIRE_THROWS_WITH(parse_run_config(kYaml, {"eval.protocols=[coco, voc2010]"}), Catch::Contains("eval.protocols"));
  REQUIRE_THROWS_WITH(parse_run_config(kYaml, {"dataset.path=/no/such/dataset", "dataset.type=files"}),
                      Catch::Contains("/no/such/dataset"));
  const RunConfig unknown_stage = parse_run_config(kYaml, {"detector.features.type=sift"});
  REQUIRE_THROWS_WITH(build_detector(unknown_stage), Catch::Contains("unknown feature stage 'sift'"));
  const RunConfig wrong_key = parse_run_config(kYaml, {"detector.classifier.mining.round=3"});
  REQUIRE_THROWS_WITH(build_detector(wrong_key), Catch::Contains("detector.classifier.mining.round"));
  const RunConfig unknown_detector = parse_run_config(kYaml, {"detector.type=yolo9000"});
  REQUIRE_THROWS_WITH(build_detector(unknown_detector), Catch::Contains("unknown detector 'yolo9000'"));
}
