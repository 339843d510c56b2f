// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Format detection, read_dataset / write_dataset, and the VOC -> COCO -> YOLO -> VOC round trip.
#include <catch2/catch.hpp>

#include <fstream>

#include "core/error.h"
#include "data/data_test_util.h"
#include "data/formats.h"

using namespace detlab;
using namespace detlab::test;
namespace fs = std::filesystem;

TEST_CASE("detect_format recognises every fixture layout", "[data][read_dataset]") {
  CHECK(detect_format(test_data("voc2012-sample")) == "voc");
  CHECK(detect_format(repo_path("datasets/bccd")) == "voc");
  CHECK(detect_format(test_data("voc2012-sample/yolo")) == "yolo");
  CHECK(detect_format(test_data("voc2012-sample/yolo/obj.data")) == "yolo");
  CHECK(detect_format(test_data("voc2012-sample/coco/coco_format_v1")) == "coco");
  CHECK(detect_format(test_data("voc2012-sample/coco/coco_format_v2/instances_v2.json")) == "coco");
  CHECK(detect_format(test_data("dlib-faces/training.xml")) == "dlib");
  // two imglab files in one folder: the user must name one
  const std::string m = input_error_of([] { detect_format(test_data("dlib-faces")); });
  CHECK(m.find("testing.xml") != std::string::npos);
  CHECK(m.find("training.xml") != std::string::npos);
  CHECK(input_error_of([] { detect_format(test_data("voc2012-sample/Annotations")); }).find("format") != std::string::npos);
  CHECK(input_error_of([] { detect_format(test_data("no-such-folder")); }).find("not found") != std::string::npos);
}

TEST_CASE("read_dataset reads each fixture in auto mode and rejects unknown formats", "[data][read_dataset]") {
  CHECK(read_dataset(test_data("voc2012-sample")).num_objects() == 273);
  CHECK(read_dataset(test_data("voc2012-sample/yolo")).num_objects() == 273);
  CHECK(read_dataset(test_data("voc2012-sample/coco/coco_format_v1")).num_objects() == 273);
  CHECK(read_dataset(test_data("dlib-faces/testing.xml")).num_objects() == 25);
  CHECK(read_dataset(test_data("voc2012-sample/yolo/obj.data"), "yolo").images.size() == 100);
  CHECK(input_error_of([] { read_dataset(test_data("voc2012-sample"), "pascal"); }).find("unknown dataset format 'pascal'") !=
        std::string::npos);
  ReadOptions opts;
  opts.image_root = test_data("voc2012-sample/JPEGImages");
  CHECK(read_dataset(test_data("voc2012-sample/coco/coco_format_v1"), "auto", opts).load_image(0).rows > 0);
}

TEST_CASE("VOC -> COCO -> YOLO -> VOC preserves every box, class and difficult flag", "[data][read_dataset][roundtrip]") {
  TempDir tmp("roundtrip");
  const Dataset voc = read_voc(test_data("voc2012-sample"));
  write_dataset(voc, tmp / "coco", "coco");
  const Dataset coco = read_dataset(tmp / "coco");
  CHECK(coco.format == "coco");
  write_dataset(coco, tmp / "yolo", "yolo");
  const Dataset yolo = read_dataset(tmp / "yolo");
  CHECK(yolo.format == "yolo");
  write_dataset(yolo, tmp / "voc", "voc");
  const Dataset back = read_dataset(tmp / "voc");
  CHECK(back.format == "voc");

  for (const Dataset* ds : {&coco, &yolo, &back}) {
    CHECK(ds->class_names == voc.class_names);
    REQUIRE(ds->images.size() == voc.images.size());
    const bool exact = ds != &yolo && ds != &back;  // YOLO's normalized text costs up to ~1e-4 px
    size_t boxes = 0, difficult = 0;
    for (size_t i = 0; i < voc.images.size(); ++i) {
      const ImageRecord &a = voc.images[i], &b = ds->images[ds->find_image_by_name(a.name)];
      CHECK(a.width == b.width);
      CHECK(a.height == b.height);
      REQUIRE(a.objects.size() == b.objects.size());
      for (size_t k = 0; k < a.objects.size(); ++k) {
        if (exact) CHECK(a.objects[k].box == b.objects[k].box);
        CHECK(box_diff(a.objects[k].box, b.objects[k].box) < 1e-3f);
        CHECK(a.objects[k].label == b.objects[k].label);
        CHECK(a.objects[k].difficult == b.objects[k].difficult);
        difficult += b.objects[k].difficult;
        ++boxes;
      }
    }
    CHECK(boxes == 273);
    CHECK(difficult == 38);
  }
  // every copy is self-contained: the images load from the written folders
  CHECK(coco.load_image(0).size() == cv::Size(coco.images[0].width, coco.images[0].height));
  CHECK(yolo.load_image(1).size() == cv::Size(yolo.images[1].width, yolo.images[1].height));
  CHECK(back.load_image(2).size() == cv::Size(back.images[2].width, back.images[2].height));
}

TEST_CASE("write_dataset as dlib writes a folder that reads back with its images", "[data][read_dataset]") {
  TempDir tmp("dlib_folder");
  const Dataset faces = read_dlib_xml(test_data("dlib-faces/training.xml"));
  write_dataset(faces, tmp / "out", "dlib");
  const Dataset back = read_dataset(tmp / "out");
  CHECK(back.format == "dlib");
  CHECK(back.num_objects() == 18);
  CHECK(back.load_image(0).size() == cv::Size(500, 375));
  CHECK(input_error_of([&] { write_dataset(faces, tmp / "x", "pascal"); }).find("format") != std::string::npos);
  CHECK(!fs::exists(tmp / "x"));
}

TEST_CASE("BCCD converts to COCO and back with its splits", "[data][read_dataset][bccd]") {
  TempDir tmp("bccd_coco");
  CaptureStderr err;
  const Dataset voc = read_dataset(repo_path("datasets/bccd"));
  write_coco(voc, tmp / "bccd.json");
  const Dataset coco = read_coco(tmp / "bccd.json", repo_path("datasets/bccd"));
  CHECK(coco.num_objects() == 4886);
  CHECK(coco.splits == voc.splits);
  CHECK(coco.class_names == voc.class_names);
  ReadOptions opts;
  opts.split = "test";
  CHECK(read_coco(tmp / "bccd.json", repo_path("datasets/bccd"), opts).images.size() == 72);
}
