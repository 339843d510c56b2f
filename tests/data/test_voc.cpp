// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// VOC reader / writer on the voc2012 sample and BCCD, and its bad-input cases.
#include <catch2/catch.hpp>

#include <fstream>

#include "core/error.h"
#include "data/data_test_util.h"
#include "data/formats.h"
#include "data/xml_file.h"

using namespace detlab;
using namespace detlab::test;
namespace fs = std::filesystem;

namespace {

// A minimal VOC folder with one annotation whose <object> body is given.
fs::path make_voc(const TempDir& tmp, const std::string& object_xml, const std::string& filename = "a.jpg") {
  const fs::path root = tmp / "voc";
  fs::create_directories(root / "Annotations");
  std::ofstream(root / "Annotations" / "a.xml")
      << "<annotation><filename>" << filename << "</filename><size><width>100</width><height>80</height></size>"
      << object_xml << "</annotation>\n";
  return root;
}

std::string obj(const std::string& name, const std::string& box) {
  return "<object><name>" + name + "</name><difficult>0</difficult>" + box + "</object>";
}
std::string bndbox(const std::string& x1, const std::string& y1, const std::string& x2, const std::string& y2) {
  return "<bndbox><xmin>" + x1 + "</xmin><ymin>" + y1 + "</ymin><xmax>" + x2 + "</xmax><ymax>" + y2 + "</ymax></bndbox>";
}

}  // namespace

TEST_CASE("read_voc reads the voc2012 sample: 100 images, 20 classes, 273 boxes, 38 difficult", "[data][voc]") {
  const Dataset ds = read_voc(test_data("voc2012-sample"));
  CHECK(ds.format == "voc");
  CHECK(ds.images.size() == 100);
  CHECK(ds.num_classes() == 20);
  CHECK(ds.num_objects() == 273);
  size_t difficult = 0;
  for (const ImageRecord& r : ds.images)
    for (const Object& o : r.objects) difficult += o.difficult;
  CHECK(difficult == 38);
  CHECK(ds.splits.empty());  // the sample has no ImageSets/
  // first image, sorted by name: 2007_000027, one person at VOC (174, 101, 349, 351) 1-based inclusive
  const ImageRecord& r = ds.images[0];
  CHECK(r.name == "2007_000027");
  CHECK(r.id == 1);
  CHECK(r.file == "JPEGImages/2007_000027.jpg");
  CHECK(r.width == 486);
  CHECK(r.height == 500);
  REQUIRE(r.objects.size() == 1);
  CHECK(r.objects[0].box == Box{173, 100, 349, 351});
  CHECK(ds.class_names[r.objects[0].label] == "person");
  CHECK(ds.class_names[0] == "person");  // first appearance over the sorted annotation files
  CHECK(ds.images.back().id == 100);
  CHECK(ds.category_ids.size() == 20);
  CHECK(ds.category_ids[3] == 4);  // VOC: label + 1
  CHECK(ds.load_image(0).size() == cv::Size(486, 500));
}

TEST_CASE("read_voc reads BCCD: classes.txt order, official splits, the two zero-area boxes dropped", "[data][voc][bccd]") {
  CaptureStderr err;
  const Dataset ds = read_voc(repo_path("datasets/bccd"));
  const std::string warnings = err.text();
  CHECK(ds.images.size() == 364);
  CHECK(ds.num_objects() == 4886);
  REQUIRE(ds.class_names == std::vector<std::string>{"RBC", "WBC", "Platelets"});
  size_t per_class[3] = {0, 0, 0};
  for (const ImageRecord& r : ds.images)
    for (const Object& o : r.objects) ++per_class[o.label];
  CHECK(per_class[0] == 4153);
  CHECK(per_class[1] == 372);
  CHECK(per_class[2] == 361);
  CHECK(ds.splits.at("train").size() == 205);
  CHECK(ds.splits.at("val").size() == 87);
  CHECK(ds.splits.at("test").size() == 72);
  CHECK(ds.splits.at("trainval").size() == 292);
  CHECK(warnings.find("BloodImage_00338.xml") != std::string::npos);
  CHECK(warnings.find("BloodImage_00343.xml") != std::string::npos);
  CHECK(std::count(warnings.begin(), warnings.end(), '\n') == 2);  // one line per dropped box
}

TEST_CASE("read_voc with a split keeps the whole dataset's ids", "[data][voc][bccd]") {
  CaptureStderr err;
  ReadOptions opts;
  opts.split = "val";
  const Dataset val = read_voc(repo_path("datasets/bccd"), opts);
  const Dataset all = read_voc(repo_path("datasets/bccd"));
  REQUIRE(val.images.size() == 87);
  CHECK(val.splits.at("val").size() == 87);
  for (const ImageRecord& r : val.images) {
    const int i = all.find_image_by_name(r.name);
    REQUIRE(i >= 0);
    CHECK(all.images[i].id == r.id);
  }
}

TEST_CASE("read_voc: a missing split file is an InputError naming it", "[data][voc][bad_input]") {
  CaptureStderr err;
  ReadOptions opts;
  opts.split = "holdout";
  const std::string msg = input_error_of([&] { read_voc(repo_path("datasets/bccd"), opts); });
  CHECK(msg.find("ImageSets/Main/holdout.txt") != std::string::npos);
  CHECK(msg.find("split") != std::string::npos);
  CHECK(msg.find("train") != std::string::npos);  // lists the known splits
}

TEST_CASE("read_voc: zero-area boxes are an error when drop_empty_boxes is off", "[data][voc][bad_input]") {
  CaptureStderr err;
  ReadOptions opts;
  opts.drop_empty_boxes = false;
  const std::string msg = input_error_of([&] { read_voc(repo_path("datasets/bccd"), opts); });
  CHECK(msg.find("BloodImage_00338.xml") != std::string::npos);
  CHECK(msg.find("bndbox") != std::string::npos);
}

TEST_CASE("read_voc: a fixed class list rejects or skips other classes", "[data][voc]") {
  ReadOptions opts;
  opts.classes = {"person"};
  const std::string msg = input_error_of([&] { read_voc(test_data("voc2012-sample"), opts); });
  CHECK(msg.find(".name") != std::string::npos);
  CHECK(msg.find("not in the class list") != std::string::npos);
  opts.skip_other_classes = true;
  const Dataset ds = read_voc(test_data("voc2012-sample"), opts);
  CHECK(ds.class_names == std::vector<std::string>{"person"});
  CHECK(ds.images.size() == 100);
  size_t persons = 0;
  for (const ImageRecord& r : ds.images) persons += r.objects.size();
  const Dataset full = read_voc(test_data("voc2012-sample"));
  size_t expected = 0;
  for (const ImageRecord& r : full.images)
    for (const Object& o : r.objects) expected += full.class_names[o.label] == "person";
  CHECK(persons == expected);
  CHECK(persons > 0);
}

TEST_CASE("read_voc ignores per-class split lists and rejects unknown images in split files", "[data][voc]") {
  TempDir tmp("voc_splits");
  const fs::path root = make_voc(tmp, obj("cat", bndbox("1", "1", "50", "40")));
  fs::create_directories(root / "ImageSets" / "Main");
  std::ofstream(root / "ImageSets" / "Main" / "train.txt") << "a\n";
  std::ofstream(root / "ImageSets" / "Main" / "cat_train.txt") << "a  1\n";
  std::ofstream(root / "ImageSets" / "Main" / "dog_train.txt") << "b -1\n";  // two columns: a per-class list
  const Dataset ds = read_voc(root);
  CHECK(ds.splits.size() == 1);
  CHECK(ds.splits.at("train") == std::vector<int>{0});
  std::ofstream(root / "ImageSets" / "Main" / "val.txt") << "a\nzzz\n";
  const std::string msg = input_error_of([&] { read_voc(root); });
  CHECK(msg.find("val.txt") != std::string::npos);
  CHECK(msg.find("line 2") != std::string::npos);
}

TEST_CASE("read_voc bad input: missing bndbox, inverted, non-finite, escaping paths, no images", "[data][voc][bad_input]") {
  TempDir tmp("voc_bad");
  SECTION("object without bndbox") {
    const fs::path root = make_voc(tmp, obj("cat", bndbox("1", "1", "5", "5")) + obj("dog", ""));
    const std::string msg = input_error_of([&] { read_voc(root); });
    CHECK(msg.find("a.xml") != std::string::npos);
    CHECK(msg.find("object[1].bndbox") != std::string::npos);
  }
  SECTION("inverted box") {
    const fs::path root = make_voc(tmp, obj("cat", bndbox("50", "1", "10", "5")));
    const std::string msg = input_error_of([&] { read_voc(root); });
    CHECK(msg.find("a.xml: object[0].bndbox: inverted") != std::string::npos);
  }
  SECTION("non-finite coordinate") {
    const fs::path root = make_voc(tmp, obj("cat", bndbox("1", "nan", "10", "5")));
    const std::string msg = input_error_of([&] { read_voc(root); });
    CHECK(msg.find("object[0].bndbox.ymin") != std::string::npos);
  }
  SECTION("not a number") {
    const fs::path root = make_voc(tmp, obj("cat", bndbox("1", "1", "ten", "5")));
    CHECK(input_error_of([&] { read_voc(root); }).find("object[0].bndbox.xmax: not a number") != std::string::npos);
  }
  SECTION("image path escaping the root") {
    const fs::path root = make_voc(tmp, obj("cat", bndbox("1", "1", "10", "5")), "../../etc/passwd");
    const std::string msg = input_error_of([&] { read_voc(root); });
    CHECK(msg.find("a.xml: filename") != std::string::npos);
    CHECK(msg.find("escapes") != std::string::npos);
  }
  SECTION("absolute image path") {
    const fs::path root = make_voc(tmp, obj("cat", bndbox("1", "1", "10", "5")), "/etc/passwd");
    CHECK(input_error_of([&] { read_voc(root); }).find("a.xml: filename") != std::string::npos);
  }
  SECTION("malformed XML") {
    const fs::path root = make_voc(tmp, "<object><name>cat</name>");
    const std::string msg = input_error_of([&] { read_voc(root); });
    CHECK(msg.find("a.xml: xml: line") != std::string::npos);
  }
  SECTION("an image size past the limit") {
    const fs::path root = tmp / "huge";
    fs::create_directories(root / "Annotations");
    std::ofstream(root / "Annotations" / "a.xml")
        << "<annotation><filename>a.jpg</filename><size><width>40000</width><height>40000</height></size>"
        << obj("cat", bndbox("1", "1", "5", "5")) << "</annotation>\n";
    CHECK(input_error_of([&] { read_voc(root); }).find("a.xml: size: image size 40000 x 40000 is above the limit") !=
          std::string::npos);
  }
  SECTION("elements nested 100,000 deep: refused before the recursive parser overflows the stack") {
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += "<n>";
    for (int i = 0; i < 100000; ++i) deep += "</n>";
    const fs::path root = make_voc(tmp, deep);
    const std::string msg = input_error_of([&] { read_voc(root); });
    CHECK(msg.find("a.xml: xml: elements nested deeper than 64 levels") != std::string::npos);
  }
  SECTION("no images") {
    fs::create_directories(tmp / "empty" / "Annotations");
    CHECK(input_error_of([&] { read_voc(tmp / "empty"); }).find("no images") != std::string::npos);
  }
  SECTION("not a VOC folder") {
    CHECK(input_error_of([&] { read_voc(tmp / "nothing"); }).find("Annotations") != std::string::npos);
  }
}

TEST_CASE("write_voc round-trips boxes, classes, difficult flags, sizes and splits exactly", "[data][voc]") {
  TempDir tmp("voc_write");
  Dataset ds = read_voc(test_data("voc2012-sample"));
  ds.splits["train"] = {0, 2, 4};
  ds.splits["val"] = {1, 3};
  write_voc(ds, tmp / "out");
  const Dataset back = read_voc(tmp / "out");
  REQUIRE(back.images.size() == ds.images.size());
  CHECK(back.class_names == ds.class_names);
  CHECK(back.splits == ds.splits);
  for (size_t i = 0; i < ds.images.size(); ++i) {
    const ImageRecord &a = ds.images[i], &b = back.images[i];
    CHECK(a.name == b.name);
    CHECK(a.id == b.id);
    CHECK(a.width == b.width);
    CHECK(a.height == b.height);
    REQUIRE(a.objects.size() == b.objects.size());
    for (size_t k = 0; k < a.objects.size(); ++k) {
      CHECK(a.objects[k].box == b.objects[k].box);
      CHECK(a.objects[k].label == b.objects[k].label);
      CHECK(a.objects[k].difficult == b.objects[k].difficult);
    }
  }
  CHECK(fs::file_size(tmp / "out" / "JPEGImages" / "2007_000027.jpg") ==
        fs::file_size(test_data("voc2012-sample/JPEGImages/2007_000027.jpg")));
}

TEST_CASE("write_voc never leaves a partial folder and never overwrites data", "[data][voc][bad_input]") {
  TempDir tmp("voc_atomic");
  Dataset ds = read_voc(test_data("voc2012-sample"));
  ds.images[50].file = "JPEGImages/missing.jpg";  // fails half-way through the copy
  const std::string msg = input_error_of([&] { write_voc(ds, tmp / "out"); });
  CHECK(msg.find("missing.jpg") != std::string::npos);
  CHECK(!fs::exists(tmp / "out"));
  CHECK(fs::is_empty(tmp.path()));  // the temporary folder is gone too
  fs::create_directories(tmp / "full");
  std::ofstream(tmp / "full" / "keep.txt") << "data\n";
  CHECK(input_error_of([&] { write_voc(read_voc(test_data("voc2012-sample")), tmp / "full"); }).find("not an empty folder") !=
        std::string::npos);
  CHECK(fs::exists(tmp / "full" / "keep.txt"));
}

TEST_CASE("xml_depth counts element nesting, skipping comments, CDATA, declarations and quoted '>'", "[data][voc]") {
  using detail::xml_depth;
  CHECK(xml_depth("", 64) == 0);
  CHECK(xml_depth("<a/>", 64) == 0);
  CHECK(xml_depth("<a><b><c>x</c></b><d/></a>", 64) == 3);
  CHECK(xml_depth("<?xml version=\"1.0\"?><!DOCTYPE a><a><!-- <b><c> --><![CDATA[<d><e>]]></a>", 64) == 1);
  CHECK(xml_depth("<a x=\"1>2\" y='/>'><b/></a>", 64) == 1);
  CHECK(xml_depth("<a><a><a></a></a></a><b><b></b></b>", 64) == 3);  // siblings do not add up
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "<n>";
  CHECK(xml_depth(deep, 10) == 11);  // stops once past the limit
  CHECK(xml_depth(deep, 5000) == 1000);
}
