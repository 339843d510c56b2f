// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// YOLO reader / writer: the CVAT darknet export of the voc2012 sample, the sidecar, image lookup, bad input.
#include <catch2/catch.hpp>

#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "data/data_test_util.h"
#include "data/formats.h"

using namespace detlab;
using namespace detlab::test;
namespace fs = std::filesystem;

namespace {

// A one-image YOLO folder with the given label lines; the image (40 x 20 PNG) sits next to the labels.
fs::path make_yolo(const TempDir& tmp, const std::string& labels) {
  const fs::path root = tmp / "yolo";
  fs::create_directories(root / "obj_train_data");
  std::ofstream(root / "obj.names") << "cat\ndog\n";
  std::ofstream(root / "train.txt") << "data/obj_train_data/a.png\n";
  std::ofstream(root / "obj_train_data" / "a.txt") << labels;
  cv::imwrite((root / "obj_train_data" / "a.png").string(), cv::Mat(20, 40, CV_8UC3, cv::Scalar(1, 2, 3)));
  return root;
}

}  // namespace

TEST_CASE("read_yolo reads the CVAT darknet export of the voc2012 sample", "[data][yolo]") {
  const Dataset ds = read_yolo(test_data("voc2012-sample/yolo"));
  CHECK(ds.format == "yolo");
  CHECK(ds.num_classes() == 20);
  CHECK(ds.class_names[0] == "person");  // obj.names order
  CHECK(ds.class_names[19] == "cow");
  REQUIRE(ds.images.size() == 100);
  CHECK(ds.splits.at("train").size() == 100);  // train.txt
  // images found by stem in the sibling JPEGImages/: the dataset root is the sample folder
  CHECK(fs::equivalent(ds.root, test_data("voc2012-sample")));
  CHECK(ds.images[0].file == "JPEGImages/2007_000027.jpg");
  CHECK(ds.images[0].id == 1);
  const Dataset voc = read_voc(test_data("voc2012-sample"));
  size_t boxes = 0;
  for (const ImageRecord& r : ds.images) {
    const int v = voc.find_image_by_name(r.name);
    REQUIRE(v >= 0);
    CHECK(r.width == voc.images[v].width);  // read from the JPEG headers
    CHECK(r.height == voc.images[v].height);
    std::vector<FlatObject> expected = flat_objects(voc, voc.images[v]);
    for (FlatObject& o : expected) o.box.x1 += 1, o.box.y1 += 1;  // CVAT's export convention, see test_coco.cpp
    std::sort(expected.begin(), expected.end());
    const std::vector<FlatObject> got = flat_objects(ds, r);
    REQUIRE(got.size() == expected.size());
    for (size_t k = 0; k < got.size(); ++k) {
      CHECK(got[k].cls == expected[k].cls);
      CHECK(box_diff(got[k].box, expected[k].box) < 2e-3f);  // 6 decimals of normalized coordinates
    }
    boxes += got.size();
  }
  CHECK(boxes == 273);
  CHECK(ds.load_image(0).cols == ds.images[0].width);
}

TEST_CASE("read_yolo with an image root resolves images there", "[data][yolo]") {
  ReadOptions opts;
  opts.image_root = test_data("voc2012-sample/JPEGImages");
  const Dataset ds = read_yolo(test_data("voc2012-sample/yolo"), opts);
  CHECK(ds.images[0].file == "2007_000027.jpg");
  CHECK(ds.load_image(0).rows == 500);
}

TEST_CASE("write_yolo keeps sizes, flags, ids and splits in its sidecar", "[data][yolo]") {
  TempDir tmp("yolo_write");
  Dataset ds = read_voc(test_data("voc2012-sample"));
  ds.images[2].objects[0].crowd = true;
  ds.splits["train"] = {0, 1, 2, 3};
  ds.splits["val"] = {4, 5};
  write_yolo(ds, tmp / "out");
  CHECK(fs::is_regular_file(tmp / "out" / "obj.data"));
  CHECK(fs::is_regular_file(tmp / "out" / "val.txt"));
  CHECK(fs::is_regular_file(tmp / "out" / "obj_train_data" / "2007_000027.jpg"));
  const Dataset back = read_yolo(tmp / "out");
  CHECK(back.class_names == ds.class_names);
  CHECK(back.splits == ds.splits);
  REQUIRE(back.images.size() == ds.images.size());
  for (size_t i = 0; i < ds.images.size(); ++i) {
    const ImageRecord &a = ds.images[i], &b = back.images[i];
    CHECK(a.name == b.name);
    CHECK(a.id == b.id);
    CHECK(a.width == b.width);
    REQUIRE(a.objects.size() == b.objects.size());
    for (size_t k = 0; k < a.objects.size(); ++k) {
      CHECK(box_diff(a.objects[k].box, b.objects[k].box) < 1e-3f);
      CHECK(a.objects[k].label == b.objects[k].label);
      CHECK(a.objects[k].difficult == b.objects[k].difficult);
      CHECK(a.objects[k].crowd == b.objects[k].crowd);
    }
  }
  CHECK(back.load_image(0).size() == cv::Size(486, 500));

  SECTION("without the sidecar: sizes from the image headers, no flags, splits from the list files") {
    fs::remove(tmp / "out" / "detlab.json");
    const Dataset plain = read_yolo(tmp / "out");
    CHECK(plain.images.size() == 6);  // only the listed images
    CHECK(plain.splits.at("val").size() == 2);
    CHECK(plain.images[0].width == 486);
    for (const ImageRecord& r : plain.images)
      for (const Object& o : r.objects) CHECK_FALSE(o.difficult);
  }
  SECTION("a sidecar of an unknown version is an error") {
    std::ofstream(tmp / "out" / "detlab.json") << R"({"format_version": 9, "images": []})";
    CHECK(input_error_of([&] { read_yolo(tmp / "out"); }).find("detlab.json: format_version") != std::string::npos);
  }
}

TEST_CASE("read_yolo bad input names the label file and the line", "[data][yolo][bad_input]") {
  TempDir tmp("yolo_bad");
  SECTION("a good file") {
    const Dataset ds = read_yolo(make_yolo(tmp, "1 0.5 0.5 0.5 0.5\n"));
    REQUIRE(ds.num_objects() == 1);
    CHECK(ds.images[0].objects[0].box == Box{10, 5, 30, 15});
    CHECK(ds.images[0].objects[0].label == 1);
  }
  SECTION("class index out of range") {
    const std::string m = input_error_of([&] { read_yolo(make_yolo(tmp, "0 0.5 0.5 0.1 0.1\n2 0.5 0.5 0.5 0.5\n")); });
    CHECK(m.find("a.txt: line 2.class") != std::string::npos);
  }
  SECTION("wrong number of values") {
    CHECK(input_error_of([&] { read_yolo(make_yolo(tmp, "0 0.5 0.5 0.5\n")); }).find("a.txt: line 1") != std::string::npos);
  }
  SECTION("non-finite value") {
    CHECK(input_error_of([&] { read_yolo(make_yolo(tmp, "0 0.5 inf 0.5 0.5\n")); }).find("a.txt: line 1") != std::string::npos);
  }
  SECTION("negative size") {
    CHECK(input_error_of([&] { read_yolo(make_yolo(tmp, "0 0.5 0.5 -0.5 0.5\n")); }).find("inverted") != std::string::npos);
  }
  SECTION("missing image: its size is unknown") {
    const fs::path root = make_yolo(tmp, "0 0.5 0.5 0.5 0.5\n");
    fs::remove(root / "obj_train_data" / "a.png");
    CHECK(input_error_of([&] { read_yolo(root); }).find("image 'a' not found") != std::string::npos);
  }
  SECTION("corrupt image") {
    const fs::path root = make_yolo(tmp, "0 0.5 0.5 0.5 0.5\n");
    std::ofstream(root / "obj_train_data" / "a.png") << "not a png";
    CHECK(input_error_of([&] { read_yolo(root); }).find("a.png: image") != std::string::npos);
  }
  SECTION("no class names") {
    const fs::path root = make_yolo(tmp, "");
    fs::remove(root / "obj.names");
    CHECK(input_error_of([&] { read_yolo(root); }).find("names") != std::string::npos);
  }
  SECTION("unknown split") {
    ReadOptions opts;
    opts.split = "val";
    CHECK(input_error_of([&] { read_yolo(make_yolo(tmp, ""), opts); }).find("unknown split 'val'") != std::string::npos);
  }
}
