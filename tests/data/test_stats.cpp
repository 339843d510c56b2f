// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// compute_stats on a hand-made dataset with known answers, on BCCD, and its JSON / table output.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "data/data_test_util.h"
#include "data/formats.h"
#include "data/stats.h"

using namespace detlab;
using namespace detlab::test;

namespace {

Object make(float x, float y, float w, float h, int label, bool difficult = false, bool crowd = false) {
  Object o;
  o.box = Box{x, y, x + w, y + h};
  o.label = label;
  o.difficult = difficult;
  o.crowd = crowd;
  return o;
}

}  // namespace

TEST_CASE("compute_stats counts classes, splits, flags and COCO size buckets", "[data][stats]") {
  Dataset ds;
  ds.name = "toy";
  ds.format = "voc";
  ds.class_names = {"a", "b"};
  ImageRecord r1, r2, r3;
  r1.width = 100, r1.height = 50;
  r2.width = 200, r2.height = 100;
  r1.objects = {make(0, 0, 10, 10, 0), make(0, 0, 31, 33, 0, true), make(0, 0, 40, 20, 1)};  // 100, 1023, 800 px²
  r2.objects = {make(0, 0, 96, 96, 1, false, true), make(0, 0, 50, 100, 0)};                 // 9216, 5000 px²
  r2.objects[1].area = 9216;  // an explicit COCO area wins over the box area: large
  ds.images = {r1, r2, r3};   // r3: no boxes, unknown size
  ds.splits["train"] = {0, 2};
  ds.splits["val"] = {1};
  const DatasetStats s = compute_stats(ds);
  CHECK(s.images == 3);
  CHECK(s.boxes == 5);
  CHECK(s.difficult == 1);
  CHECK(s.crowd == 1);
  CHECK(s.images_without_boxes == 1);
  CHECK(s.classes[0].boxes == 3);
  CHECK(s.classes[0].images == 2);
  CHECK(s.classes[1].boxes == 2);
  CHECK(s.classes[1].crowd == 1);
  CHECK(s.area.small == 3);  // 100, 1023, 800 < 1024
  CHECK(s.area.medium == 0);
  CHECK(s.area.large == 2);  // 9216 = 96², and the explicit area 9216
  CHECK(s.splits.at("train").images == 2);
  CHECK(s.splits.at("train").boxes == 3);
  CHECK(s.splits.at("train").boxes_per_class == std::vector<size_t>{2, 1});
  CHECK(s.splits.at("val").boxes_per_class == std::vector<size_t>{1, 1});
  CHECK(s.box_width.min == 10);
  CHECK(s.box_width.max == 96);
  CHECK(s.box_width.median == 40);
  CHECK(s.box_width.mean == Approx((10 + 31 + 40 + 96 + 50) / 5.0));
  CHECK(s.box_aspect.min == Approx(0.5));
  CHECK(s.image_width.count == 2);
  CHECK(s.image_width.median == 150);

  const nlohmann::json j = nlohmann::json::parse(stats_to_json(s));
  CHECK(j["boxes"] == 5);
  CHECK(j["classes"][1]["name"] == "b");
  CHECK(j["splits"]["val"]["boxes_per_class"]["a"] == 1);
  CHECK(j["coco_area"]["large"] == 2);
  const std::string table = format_stats(s);
  CHECK(table.find("dataset toy (voc): 3 images, 5 boxes (1 difficult, 1 crowd)") != std::string::npos);
  CHECK(table.find("small (< 32^2) 3, medium (< 96^2) 0, large 2") != std::string::npos);
}

TEST_CASE("summarize: median of even and odd counts, empty input", "[data][stats]") {
  CHECK(summarize({3, 1, 2}).median == 2);
  CHECK(summarize({4, 1, 3, 2}).median == 2.5);
  CHECK(summarize({}).count == 0);
  CHECK(summarize({}).max == 0);
}

TEST_CASE("compute_stats on BCCD", "[data][stats][bccd]") {
  CaptureStderr err;
  const DatasetStats s = compute_stats(read_dataset(repo_path("datasets/bccd")));
  CHECK(s.images == 364);
  CHECK(s.boxes == 4886);
  CHECK(s.classes[0].boxes == 4153);
  CHECK(s.classes[1].boxes == 372);
  CHECK(s.classes[2].boxes == 361);
  CHECK(s.splits.at("train").images == 205);
  CHECK(s.splits.at("val").images == 87);
  CHECK(s.splits.at("test").images == 72);
  CHECK(s.area.small + s.area.medium + s.area.large == 4886);
  CHECK(s.image_width.min == 640);
  CHECK(s.image_height.max == 480);
}
