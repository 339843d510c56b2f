// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// COCO results JSON: reading, validation errors naming file and index, bit-exact round trip, atomic writes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <cmath>
#include <optional>
#include <random>

#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/detections.h"
#include "eval/eval_test_util.h"

using namespace detlab;
using namespace detlab::testing;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("detlab_eval_test_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

Dataset small_gt() {
  Dataset gt = make_dataset(2, {7, 9});
  gt.category_ids = {3, 18};
  return gt;
}

std::string error_of(const std::string& json, const Dataset& gt) {
  TempDir dir;
  const fs::path file = dir.path / "dets.json";
  write_file_atomic(file, json);
  try {
    read_coco_results(file, gt);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("coco results: reading groups by gt image and keeps file order", "[eval][detections]") {
  const Dataset gt = small_gt();
  TempDir dir;
  const fs::path file = dir.path / "dets.json";
  write_file_atomic(file, R"([
    {"image_id": 9, "category_id": 18, "bbox": [10, 20, 30, 40], "score": 0.5, "segmentation": []},
    {"image_id": 7, "category_id": 3, "bbox": [1.5, 2.5, 0, 4], "score": 1},
    {"image_id": 9, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0}])");
  const DetectionSet d = read_coco_results(file, gt);
  REQUIRE(d.size() == 2);
  CHECK(d[0].image_id == 7);
  CHECK(d[1].image_id == 9);
  REQUIRE(d[1].dets.size() == 2);
  CHECK(d[1].dets[0].label == 1);
  CHECK(d[1].dets[0].box == Box{10, 20, 40, 60});
  CHECK(d[1].dets[0].score == 0.5f);
  CHECK(d[1].dets[1].label == 0);
  CHECK(d[0].dets[0].box == Box{1.5f, 2.5f, 1.5f, 6.5f});  // zero width is a valid box
}

TEST_CASE("coco results: bad input names the file and the index", "[eval][detections]") {
  const Dataset gt = small_gt();
  const std::string ok = R"("category_id": 3, "bbox": [1, 2, 3, 4], "score": 0.5)";
  CHECK_THAT(error_of(R"([{"image_id": 7, )" + ok + R"(}, {"image_id": 8, )" + ok + "}]", gt),
             Catch::Contains("dets.json: [1].image_id: unknown image id 8"));
  CHECK_THAT(error_of(R"([{"image_id": 7, "category_id": 4, "bbox": [1, 2, 3, 4], "score": 0.5}])", gt),
             Catch::Contains("[0].category_id: unknown category id 4"));
  CHECK_THAT(error_of(R"([{"image_id": 7, "category_id": 3, "bbox": [1, 2, -3, 4], "score": 0.5}])", gt),
             Catch::Contains("[0].bbox: negative width or height"));
  CHECK_THAT(error_of(R"([{"image_id": 7, "category_id": 3, "bbox": [1, 2, 1e400, 4], "score": 0.5}])", gt),
             Catch::Contains("dets.json: invalid JSON") && Catch::Contains("1e400"));
  CHECK_THAT(error_of(R"([{"image_id": 7, "category_id": 3, "bbox": [1, 2, NaN, 4], "score": 0.5}])", gt),
             Catch::Contains("dets.json: invalid JSON") && Catch::Contains("syntax error"));
  CHECK_THAT(error_of(R"([{"image_id": 7, "category_id": 3, "bbox": [1, 2, 3], "score": 0.5}])", gt),
             Catch::Contains("[0].bbox: expected [x, y, width, height]"));
  CHECK_THAT(error_of(R"([{"image_id": 7, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 1e300}])", gt),
             Catch::Contains("[0].score: does not fit in single precision"));
  CHECK_THAT(error_of(R"([{"image_id": 7, "category_id": 3, "bbox": [1, 2, 3, 4]}])", gt),
             Catch::Contains("[0].score: missing"));
  CHECK_THAT(error_of(R"([{"image_id": "7", )" + ok + "}]", gt), Catch::Contains("[0].image_id: expected an integer"));
  CHECK_THAT(error_of(R"({"annotations": []})", gt), Catch::Contains("expected a JSON list"));
  CHECK_THAT(error_of(R"([{"image_id": 7,)", gt), Catch::Contains("invalid JSON"));
  CHECK_THAT(error_of("[]", gt), Catch::Equals("no error"));
}

TEST_CASE("coco results: any finite score is taken (SVM margins, logits), extra fields are ignored",
          "[eval][detections]") {
  const Dataset gt = small_gt();
  TempDir dir;
  const fs::path file = dir.path / "dets.json";
  write_file_atomic(file, R"([
    {"image_id": 7, "category_id": 3, "bbox": [1, 2, 3, 4], "score": -3.25, "id": 4, "area": 12, "iscrowd": 0},
    {"image_id": 7, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 17.5, "segmentation": {"counts": "x"}},
    {"image_id": 7, "category_id": 3, "bbox": [1, 2, 3, 4], "score": 1.5, "extra": [1, 2, {"nested": null}]}])");
  const DetectionSet d = read_coco_results(file, gt);
  REQUIRE(d.size() == 1);
  REQUIRE(d[0].dets.size() == 3);
  CHECK(d[0].dets[0].score == -3.25f);
  CHECK(d[0].dets[1].score == 17.5f);
  CHECK(d[0].dets[2].score == 1.5f);
}

TEST_CASE("coco results: writing then reading gives the same floats bit for bit", "[eval][detections]") {
  Dataset gt;
  DetectionSet dets;
  random_coco_case(3, 30, 5, gt, dets);
  // Awkward values: large coordinates, tiny boxes, scores with long expansions.
  dets[0].dets.push_back(det(1, {123456.7f, 0.1f, 123457.3f, 0.1000001f}, 1.f / 3));
  dets[0].dets.push_back(det(2, {0.f, 0.f, 0.f, 0.f}, 0.f));
  TempDir dir;
  const fs::path file = dir.path / "out" / "dets.json";
  write_coco_results(file, gt, dets);
  const DetectionSet back = read_coco_results(file, gt);
  const auto a = detections_by_image(gt, dets), b = detections_by_image(gt, back);
  REQUIRE(a.size() == b.size());
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].size() == b[i].size());
    for (size_t j = 0; j < a[i].size(); ++j, ++n) {
      CHECK(a[i][j].box == b[i][j].box);
      CHECK(a[i][j].label == b[i][j].label);
      CHECK(a[i][j].score == b[i][j].score);
    }
  }
  CHECK(n == num_detections(dets));
  // Short text where it round-trips: x, y and score are the shortest float text.
  CHECK(read_file(file).find("\"score\": 0.33333334}") != std::string::npos);
}

TEST_CASE("coco results: an invalid set leaves no file behind", "[eval][detections]") {
  const Dataset gt = small_gt();
  TempDir dir;
  const fs::path file = dir.path / "dets.json";
  const DetectionSet bad = {{7, {det(0, {0, 0, 1, 1}, 0.5f)}}, {8, {det(0, {0, 0, 1, 1}, 0.5f)}}};
  CHECK_THROWS_AS(write_coco_results(file, gt, bad), std::invalid_argument);
  CHECK(fs::is_empty(dir.path));
  const DetectionSet nan_box = {{7, {det(0, {0, 0, std::nanf(""), 1}, 0.5f)}}};
  CHECK_THROWS_AS(check_detections(gt, nan_box), std::invalid_argument);
}

TEST_CASE("coco results: the streaming path gives the checked path's set, or hands the file over",
          "[eval][detections]") {
  TempDir tmp;
  const Dataset gt = small_gt();  // image ids 7, 9; category ids 3, 18
  std::mt19937 rng(11);
  auto pick = [&](std::initializer_list<const char*> options) {
    const std::vector<const char*> v(options);
    return std::string(rng() % 2 ? v[0] : v[rng() % v.size()]);  // the first (valid) option half of the time
  };
  int streamed = 0, refused = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text = "[";
    for (int n = static_cast<int>(rng() % 4), k = 0; k < n; ++k) {
      std::vector<std::string> fields = {
          "\"image_id\": " + pick({"7", "9", "8", "\"7\"", "7.0"}),
          "\"category_id\": " + pick({"3", "18", "4"}),
          "\"bbox\": " + pick({"[1.25, 2, 30.5, 40]", "[0, 0, 0, 0]", "[1, 1, -2, 3]", "[1, 2, 3]",
                               "[1e38, 1, 1e38, 1]", "[0.1, 0.2, 0.3, 0.4]", "null"}),
          "\"score\": " + pick({"0.875", "-3.5", "1e39", "\"0.5\"", "12"})};
      if (rng() % 4 == 0) fields.push_back(R"("segmentation": {"counts": "abc", "size": [2, 2]})");
      if (rng() % 10 == 0) fields.erase(fields.begin() + static_cast<long>(rng() % fields.size()));
      std::shuffle(fields.begin(), fields.end(), rng);
      std::string obj = "{";
      for (size_t f = 0; f < fields.size(); ++f) obj += (f ? ", " : "") + fields[f];
      text += std::string(k ? ", " : "") + obj + "}";
    }
    text += rng() % 30 == 0 ? "" : "]";
    const fs::path file = tmp.path / "dets.json";
    std::ofstream(file, std::ios::trunc) << text;
    const std::optional<DetectionSet> fast = detail::read_coco_results_streaming(file, gt);
    std::optional<DetectionSet> checked;
    try {
      checked = detail::read_coco_results_checked(file, gt);
    } catch (const InputError&) {
    }
    INFO(text);
    if (!fast) {
      ++refused;
      continue;
    }
    ++streamed;
    REQUIRE(checked.has_value());
    REQUIRE(fast->size() == checked->size());
    for (size_t k = 0; k < fast->size(); ++k) {
      CHECK((*fast)[k].image_id == (*checked)[k].image_id);
      REQUIRE((*fast)[k].dets.size() == (*checked)[k].dets.size());
      for (size_t d = 0; d < (*fast)[k].dets.size(); ++d) {
        CHECK((*fast)[k].dets[d].box == (*checked)[k].dets[d].box);
        CHECK((*fast)[k].dets[d].label == (*checked)[k].dets[d].label);
        CHECK((*fast)[k].dets[d].score == (*checked)[k].dets[d].score);
      }
    }
  }
  CHECK(streamed > 300);
  CHECK(refused > 300);
}
