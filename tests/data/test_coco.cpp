// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// COCO reader / writer: the two COCO forms of the voc2012 sample, round trips and bad input.
#include <catch2/catch.hpp>

#include <fstream>

#include "core/error.h"
#include "data/data_test_util.h"
#include "data/formats.h"

using namespace detlab;
using namespace detlab::test;
namespace fs = std::filesystem;

namespace {

// The sample's COCO and YOLO files were exported from the VOC XML by CVAT, which took the 1-based
// inclusive xmin / ymin as continuous coordinates: their boxes are the VOC boxes shifted by +1 at the
// top-left. (detlab reads VOC as (xmin - 1, ymin - 1, xmax, ymax), see formats.h.)
Box cvat_box(const Box& voc) { return Box{voc.x1 + 1, voc.y1 + 1, voc.x2, voc.y2}; }

void check_same_as_voc(const Dataset& coco) {
  const Dataset voc = read_voc(test_data("voc2012-sample"));
  REQUIRE(coco.images.size() == voc.images.size());
  size_t boxes = 0;
  for (const ImageRecord& r : coco.images) {
    const int v = voc.find_image_by_name(r.name);
    REQUIRE(v >= 0);
    CHECK(voc.images[v].width == r.width);
    CHECK(voc.images[v].height == r.height);
    std::vector<FlatObject> expected = flat_objects(voc, voc.images[v]);
    for (FlatObject& o : expected) o.box = cvat_box(o.box), o.difficult = false;  // the export dropped the flag
    std::sort(expected.begin(), expected.end());
    const std::vector<FlatObject> got = flat_objects(coco, r);
    REQUIRE(got.size() == expected.size());
    for (size_t k = 0; k < got.size(); ++k) {
      CHECK(got[k].cls == expected[k].cls);
      CHECK(got[k].box == expected[k].box);
      CHECK(got[k].difficult == expected[k].difficult);
    }
    boxes += got.size();
  }
  CHECK(boxes == 273);
}

fs::path write_json(const TempDir& tmp, const std::string& text) {
  const fs::path p = tmp / "ann.json";
  std::ofstream(p) << text;
  return p;
}

const char* const kCats = R"("categories": [{"id": 7, "name": "cat"}, {"id": 3, "name": "dog"}])";

}  // namespace

TEST_CASE("read_coco reads the CVAT COCO export (v1) of the voc2012 sample", "[data][coco]") {
  const Dataset ds = read_coco(test_data("voc2012-sample/coco/coco_format_v1/instances_default.json"),
                               test_data("voc2012-sample/JPEGImages"));
  CHECK(ds.format == "coco");
  CHECK(ds.num_classes() == 20);
  CHECK(ds.class_names[0] == "person");  // order of the categories array
  CHECK(ds.class_names[1] == "cat");
  CHECK(ds.category_ids[1] == 2);
  CHECK(ds.images[0].id == 1);  // COCO ids and image order kept
  CHECK(ds.images[0].name == "2007_001585");
  check_same_as_voc(ds);
  CHECK(ds.load_image(0).size() == cv::Size(ds.images[0].width, ds.images[0].height));
}

TEST_CASE("read_coco reads the v2 form: large image ids, integer boxes, `ignore` field", "[data][coco]") {
  const Dataset ds = read_coco(test_data("voc2012-sample/coco/coco_format_v2/instances_v2.json"));
  CHECK(ds.images[0].id == 20180000001);
  CHECK(ds.find_image(20180000002) == 1);
  CHECK(ds.class_names[1] == "aeroplane");
  check_same_as_voc(ds);
  CHECK(ds.images[0].objects[0].area == 43750.f);
  CHECK(ds.images[0].objects[0].id == 1);
}

TEST_CASE("write_coco round-trips ids, boxes, difficult / crowd flags, areas, categories and splits", "[data][coco]") {
  TempDir tmp("coco_write");
  Dataset ds = read_voc(test_data("voc2012-sample"));
  ds.images[3].objects[0].crowd = true;
  ds.images[4].objects[0].area = 123.5f;
  ds.images[5].objects[0].box = Box{0.1f, 10.25f, 33.3f, 40.7f};  // non-integer coordinates survive exactly
  ds.category_ids[0] = 42;
  ds.splits["train"] = {0, 1, 2};
  ds.splits["test"] = {99};
  write_coco(ds, tmp / "x.json");
  const Dataset back = read_coco(tmp / "x.json", test_data("voc2012-sample"));
  CHECK(back.name == ds.name);
  CHECK(back.class_names == ds.class_names);
  CHECK(back.category_ids == ds.category_ids);
  CHECK(back.splits == ds.splits);
  REQUIRE(back.images.size() == ds.images.size());
  for (size_t i = 0; i < ds.images.size(); ++i) {
    const ImageRecord &a = ds.images[i], &b = back.images[i];
    CHECK(a.id == b.id);
    CHECK(a.file == b.file);
    REQUIRE(a.objects.size() == b.objects.size());
    for (size_t k = 0; k < a.objects.size(); ++k) {
      CHECK(a.objects[k].box == b.objects[k].box);
      CHECK(a.objects[k].label == b.objects[k].label);
      CHECK(a.objects[k].difficult == b.objects[k].difficult);
      CHECK(a.objects[k].crowd == b.objects[k].crowd);
      CHECK(object_area(a.objects[k]) == object_area(b.objects[k]));
    }
  }
  CHECK(back.load_image(7).cols == ds.images[7].width);
}

TEST_CASE("read_coco bad input names the file and the field", "[data][coco][bad_input]") {
  TempDir tmp("coco_bad");
  const std::string img = R"("images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}])";
  auto msg_for = [&](const std::string& text) {
    const fs::path p = write_json(tmp, text);
    return input_error_of([&] { read_coco(p); });
  };
  SECTION("unknown category id") {
    const std::string m = msg_for("{" + img + ", " + kCats +
                                  R"(, "annotations": [{"id": 1, "image_id": 1, "category_id": 99, "bbox": [1, 1, 5, 5]}]})");
    CHECK(m.find("ann.json: annotations[0].category_id: unknown category id 99") != std::string::npos);
  }
  SECTION("unknown image id") {
    const std::string m = msg_for("{" + img + ", " + kCats +
                                  R"(, "annotations": [{"id": 1, "image_id": 2, "category_id": 7, "bbox": [1, 1, 5, 5]}]})");
    CHECK(m.find("annotations[0].image_id") != std::string::npos);
  }
  SECTION("NaN in the JSON") {
    const std::string m = msg_for("{" + img + ", " + kCats +
                                  R"(, "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [1, NaN, 5, 5]}]})");
    CHECK(m.find("ann.json: bbox: invalid JSON") != std::string::npos);
  }
  SECTION("negative width (inverted box)") {
    const std::string m = msg_for("{" + img + ", " + kCats +
                                  R"(, "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 1, -5, 5]}]})");
    CHECK(m.find("annotations[0].bbox: inverted") != std::string::npos);
  }
  SECTION("infinite coordinate") {
    const std::string m = msg_for("{" + img + ", " + kCats +
                                  R"(, "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [1e999, 1, 5, 5]}]})");
    CHECK(m.find("ann.json: ") != std::string::npos);
    CHECK(m.find("bbox") != std::string::npos);
  }
  SECTION("bbox of the wrong shape") {
    const std::string m = msg_for("{" + img + ", " + kCats +
                                  R"(, "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [1, 1, 5]}]})");
    CHECK(m.find("annotations[0].bbox: expected [x, y, width, height]") != std::string::npos);
  }
  SECTION("image path escaping the root") {
    const std::string m = msg_for(R"({"images": [{"id": 1, "file_name": "../../etc/passwd"}], )" + std::string(kCats) + "}");
    CHECK(m.find("images[0].file_name") != std::string::npos);
    CHECK(m.find("escapes") != std::string::npos);
  }
  SECTION("absolute image path") {
    const std::string m = msg_for(R"({"images": [{"id": 1, "file_name": "/etc/passwd"}], )" + std::string(kCats) + "}");
    CHECK(m.find("images[0].file_name") != std::string::npos);
  }
  SECTION("an image size past the limit, an iscrowd flag other than 0 / 1") {
    const std::string huge = R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 40000, "height": 40000}], )";
    CHECK(msg_for(huge + kCats + "}").find("ann.json: images[0]: image size 40000 x 40000 is above the limit") !=
          std::string::npos);
    const std::string m = msg_for("{" + img + ", " + kCats +
                                  R"(, "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [1, 1, 5, 5], "iscrowd": 7}]})");
    CHECK(m.find("ann.json: annotations[0].iscrowd: expected true/false or 0/1, got 7") != std::string::npos);
  }
  SECTION("no images") {
    CHECK(msg_for(R"({"images": [], )" + std::string(kCats) + "}").find("ann.json: images: the dataset has no images") !=
          std::string::npos);
  }
  SECTION("missing categories") {
    CHECK(msg_for("{" + img + "}").find("ann.json: categories: missing") != std::string::npos);
  }
  SECTION("wrong type") {
    const std::string m = msg_for(R"({"images": [{"id": "one", "file_name": "a.jpg"}], )" + std::string(kCats) + "}");
    CHECK(m.find("images[0].id: expected an integer") != std::string::npos);
  }
  SECTION("zero-area box: dropped with a warning, or an error") {
    const std::string text = "{" + img + ", " + kCats +
                             R"(, "annotations": [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [1, 1, 0, 5]}]})";
    const fs::path p = write_json(tmp, text);
    CaptureStderr err;
    const Dataset ds = read_coco(p);
    CHECK(ds.num_objects() == 0);
    CHECK(err.text().find("ann.json: annotations[0].bbox: dropping") != std::string::npos);
    ReadOptions strict;
    strict.drop_empty_boxes = false;
    CHECK(input_error_of([&] { read_coco(p, {}, strict); }).find("zero width or height") != std::string::npos);
  }
  SECTION("unknown split") {
    const fs::path p = write_json(tmp, "{" + img + ", " + kCats + "}");
    ReadOptions opts;
    opts.split = "train";
    CHECK(input_error_of([&] { read_coco(p, {}, opts); }).find("unknown split 'train'") != std::string::npos);
  }
}

TEST_CASE("read_coco maps categories onto a requested class list", "[data][coco]") {
  TempDir tmp("coco_classes");
  const fs::path p = write_json(tmp, std::string(R"({"images": [{"id": 5, "file_name": "a.jpg"}], )") + kCats +
                                         R"(, "annotations": [{"id": 1, "image_id": 5, "category_id": 3, "bbox": [1, 1, 5, 5]},
                                             {"id": 2, "image_id": 5, "category_id": 7, "bbox": [2, 2, 5, 5]}]})");
  ReadOptions opts;
  opts.classes = {"dog", "bird"};
  opts.skip_other_classes = true;
  const Dataset ds = read_coco(p, {}, opts);
  CHECK(ds.class_names == opts.classes);
  CHECK(ds.category_ids == std::vector<int64_t>{3, 8});  // "bird" is not in the file: next free id
  REQUIRE(ds.images[0].objects.size() == 1);
  CHECK(ds.images[0].objects[0].label == 0);
  CHECK(ds.images[0].objects[0].id == 1);
}
