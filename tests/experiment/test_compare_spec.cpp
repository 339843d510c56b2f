// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Comparison specs: entries, overrides in order, the quick preset, and one InputError per mistake.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/error.h"
#include "experiment/compare_spec.h"

using namespace detlab;

namespace {
const char* kSpec = R"YAML(
name: demo
dataset: {type: synthetic, num_images: 30}
eval: {protocols: [coco, voc07]}
set: ["detector.postprocess.max_per_image=50"]
seeds: [0, 1]
entries:
  - {label: "HOG+SVM", config: a.yaml, set: ["detector.classifier.C=2"], quick: ["detector.classifier.mining.rounds=1"]}
  - {label: "HOG+SVM (dlib)", config: b.yaml}
  - {label: "Faster R-CNN", config: c.yaml}
proposals:
  - {label: "sliding windows", config: a.yaml}
plots: {images: 3}
quick:
  only: ["HOG+SVM", "Faster R-CNN"]
  set: ["dataset.num_images=12"]
  seeds: 1
  max_images: 4
  plots: {images: 2}
)YAML";
}  // namespace

TEST_CASE("compare spec: entries, slugs, overrides in order", "[experiment][compare_spec]") {
  const CompareSpec s = parse_compare_spec(kSpec, false);
  REQUIRE(s.name == "demo");
  REQUIRE(s.entries.size() == 3);
  REQUIRE(s.entries[1].slug == "hog_svm_dlib");
  REQUIRE(s.entries[2].slug == "faster_r_cnn");
  REQUIRE(s.entries[2].index == 2);
  REQUIRE(s.seeds == std::vector<uint64_t>{0, 1});
  REQUIRE(s.sample_images == 3);
  const auto o = s.overrides_for(s.entries[0], {"eval.max_images=7"});
  REQUIRE(o.size() == 5);
  REQUIRE(o[0].rfind("dataset=", 0) == 0);
  REQUIRE(o[0].find("num_images: 30") != std::string::npos);
  REQUIRE(o[1].rfind("eval=", 0) == 0);
  REQUIRE(o[2] == "detector.postprocess.max_per_image=50");
  REQUIRE(o[3] == "detector.classifier.C=2");
  REQUIRE(o[4] == "eval.max_images=7");  // entry quick overrides only under --quick
  REQUIRE(slugify("  R-CNN (VGG-16)!! ") == "r_cnn_vgg_16");
  REQUIRE(slugify("+++") == "entry");
}

TEST_CASE("compare spec: the quick preset", "[experiment][compare_spec]") {
  const CompareSpec q = parse_compare_spec(kSpec, true);
  REQUIRE(q.quick);
  REQUIRE(q.entries.size() == 2);
  REQUIRE(q.entries[1].label == "Faster R-CNN");
  REQUIRE(q.entries[1].index == 2);  // colours stay those of the full spec
  REQUIRE(q.seeds == std::vector<uint64_t>{0});
  REQUIRE(q.sample_images == 2);
  const auto o = q.overrides_for(q.entries[0]);
  REQUIRE(std::find(o.begin(), o.end(), "dataset.num_images=12") != o.end());
  REQUIRE(std::find(o.begin(), o.end(), "eval.max_images=4") != o.end());
  REQUIRE(o.back() == "detector.classifier.mining.rounds=1");
  const auto p = q.overrides_for(q.proposals[0]);
  REQUIRE(std::find(p.begin(), p.end(), "eval.max_images=4") != p.end());
}

TEST_CASE("compare spec mistakes name the key", "[experiment][compare_spec]") {
  auto bad = [](const std::string& yaml) { return parse_compare_spec(yaml, false); };
  REQUIRE_THROWS_WITH(bad("{name: x, entries: [{label: a, config: a.yaml}], sedes: 1}"), Catch::Contains("sedes"));
  REQUIRE_THROWS_WITH(bad("{entries: [{label: a, config: a.yaml}]}"), Catch::Contains("name"));
  REQUIRE_THROWS_WITH(bad("{name: x, entries: []}"), Catch::Contains("entries"));
  REQUIRE_THROWS_WITH(bad("{name: x, entries: [{label: a}]}"), Catch::Contains("entries[0].config"));
  REQUIRE_THROWS_WITH(bad("{name: x, entries: [{label: a, config: a.yaml, sett: []}]}"), Catch::Contains("sett"));
  REQUIRE_THROWS_WITH(bad("{name: x, entries: [{label: A-B, config: a.yaml}, {label: a b, config: b.yaml}]}"),
                      Catch::Contains("both map to the folder name 'a_b'"));
  REQUIRE_THROWS_WITH(bad("{name: x, entries: [{label: a, config: a.yaml}], quick: {only: [b]}}"),
                      Catch::Contains("'b' is not an entry label"));
  REQUIRE_THROWS_WITH(bad("{name: x, entries: [{label: a, config: a.yaml}], seeds: 0}"), Catch::Contains("seeds"));
  REQUIRE_THROWS_WITH(bad("{name: My Run, entries: [{label: a, config: a.yaml}]}"), Catch::Contains("name"));
  REQUIRE_THROWS_AS(load_compare_spec("no/such/spec.yaml", false), InputError);
}
