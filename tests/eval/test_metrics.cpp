// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// evaluate() over all protocols, the printed summary, metrics.json keys, round trip and version check.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/eval_test_util.h"
#include "eval/metrics.h"

using namespace detlab;
using namespace detlab::testing;
namespace fs = std::filesystem;

namespace {

fs::path temp_file(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("detlab_metrics_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

Evaluation small_evaluation(bool plus_one = false) {
  Dataset gt = make_dataset(3, {1, 2});
  gt.images[0].objects = {object(0, {0, 0, 40, 40}), object(1, {100, 100, 200, 200})};
  gt.images[1].objects = {object(0, {10, 10, 30, 30})};
  const DetectionSet dets = {{1, {det(0, {0, 0, 40, 40}, 0.9f), det(1, {100, 100, 150, 200}, 0.8f)}},
                             {2, {det(0, {50, 50, 70, 70}, 0.7f), det(2, {0, 0, 5, 5}, 0.6f)}}};
  EvalOptions o;
  o.threads = 1;
  o.voc.plus_one = plus_one;
  return evaluate(gt, dets, o);
}

}  // namespace

TEST_CASE("evaluate runs every requested protocol", "[eval][metrics]") {
  const Evaluation e = small_evaluation();
  REQUIRE(e.coco);
  REQUIRE(e.voc07);
  REQUIRE(e.voc12);
  CHECK(e.metrics.coco_stat("AP") == e.coco->stats[0]);
  CHECK(e.metrics.coco_stat("ARl") == e.coco->stats[11]);
  // c0: 1 TP of 2 gt -> VOC12 AP 0.5; c1: IoU 0.5 exactly is not > 0.5 on these continuous boxes (the default,
  // voc_eval.h) -> AP 0; c2 has no gt -> NaN, left out. With the +1 convention the same boxes give
  // 5151 / 10201 > 0.5 -> AP 1.
  CHECK(e.metrics.voc12->per_class[0] == 0.5);
  CHECK(e.metrics.voc12->per_class[1] == 0.0);
  CHECK(std::isnan(e.metrics.voc12->per_class[2]));
  CHECK(e.metrics.voc12->map == 0.25);
  CHECK(small_evaluation(/*plus_one=*/true).metrics.voc12->per_class[1] == 1.0);
  CHECK_THROWS_AS(e.metrics.coco_stat("mAP"), std::invalid_argument);

  const std::string s = format_summary(e);
  CHECK(s.find("COCO bbox") == 0);
  CHECK(s.find("VOC07 (11-point, IoU > 0.50)") != std::string::npos);
  CHECK(format_summary(small_evaluation(true)).find("VOC07 (11-point, IoU > 0.50, +1 areas)") != std::string::npos);
  CHECK(s.find("VOC12 (all-point") != std::string::npos);

  EvalOptions only_voc;
  only_voc.protocols = parse_protocols("voc12");
  Dataset gt = make_dataset(1, {1});
  const Evaluation v = evaluate(gt, {}, only_voc);
  CHECK(!v.coco);
  CHECK(!v.voc07);
  CHECK(v.voc12);
}

TEST_CASE("parse_protocols accepts lists and all, rejects the rest", "[eval][metrics]") {
  CHECK(parse_protocols("all").size() == 3);
  CHECK(parse_protocols("voc07,coco") == std::vector<Protocol>{Protocol::kVoc07, Protocol::kCoco});
  CHECK_THROWS_AS(parse_protocols("voc2007"), InputError);
  CHECK_THROWS_AS(parse_protocols(""), InputError);
}

TEST_CASE("metrics.json has exactly the documented keys (eval/metrics.h) and reads back", "[eval][metrics]") {
  Evaluation e = small_evaluation();
  e.metrics.ms_per_image = 12.5;
  e.metrics.stage_ms = {{"proposals", 3.0}, {"classifier", 9.5}};
  e.metrics.extra_json = R"({"note": "free form", "n": [1, 2]})";
  const fs::path file = temp_file("metrics.json");
  write_metrics_json(file, e.metrics);
  const auto j = nlohmann::json::parse(read_file(file));
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"coco", "extra", "timing", "version", "voc07", "voc12"});
  std::vector<std::string> coco_keys;
  for (auto it = j["coco"].begin(); it != j["coco"].end(); ++it) coco_keys.push_back(it.key());
  std::sort(coco_keys.begin(), coco_keys.end());
  CHECK(coco_keys == std::vector<std::string>{"AP", "AP50", "AP75", "APl", "APm", "APs", "AR1", "AR10", "AR100",
                                              "ARl", "ARm", "ARs"});
  CHECK(j["voc07"]["per_class"]["c2"].is_null());  // NaN -> null
  CHECK(j["voc12"]["mAP"] == 0.25);
  CHECK(j["timing"]["ms_per_image"] == 12.5);
  CHECK(j["timing"]["stages"]["classifier"] == 9.5);
  CHECK(j["extra"]["note"] == "free form");

  const Metrics m = read_metrics_json(file);
  CHECK(*m.coco == *e.metrics.coco);
  CHECK(m.class_names == e.metrics.class_names);
  CHECK(m.voc12->map == e.metrics.voc12->map);
  CHECK(std::isnan(m.voc07->per_class[2]));
  CHECK(m.ms_per_image == 12.5);
  CHECK(m.stage_ms == e.metrics.stage_ms);
  CHECK(nlohmann::json::parse(m.extra_json) == nlohmann::json::parse(e.metrics.extra_json));
  fs::remove(file);
}

TEST_CASE("metrics.json: missing sections are null, bad files fail loudly", "[eval][metrics]") {
  Metrics m;
  m.class_names = {"a"};
  const fs::path file = temp_file("partial.json");
  write_metrics_json(file, m);
  const auto j = nlohmann::json::parse(read_file(file));
  CHECK(j["coco"].is_null());
  CHECK(j["voc07"].is_null());
  CHECK(j["timing"]["ms_per_image"].is_null());
  const Metrics back = read_metrics_json(file);
  CHECK(!back.coco);
  CHECK(std::isnan(back.ms_per_image));

  write_file_atomic(file, R"({"version": 99, "coco": null, "voc07": null, "voc12": null, "timing": {}})");
  CHECK_THROWS_WITH(read_metrics_json(file), Catch::Contains("version: unsupported metrics.json version 99"));
  write_file_atomic(file, R"({"version": 1, "coco": {"AP": 0.5}, "voc07": null, "voc12": null})");
  CHECK_THROWS_WITH(read_metrics_json(file), Catch::Contains("coco.AP50: missing"));

  m.extra_json = "[1, 2]";
  const fs::path other = temp_file("extra.json");
  CHECK_THROWS_AS(write_metrics_json(other, m), InputError);
  CHECK(!fs::exists(other));
  fs::remove(file);
}
