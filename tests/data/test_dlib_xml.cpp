// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// dlib imglab XML reader / writer on dlib's face example set, round trips and bad input.
#include <catch2/catch.hpp>

#include <fstream>

#include "core/error.h"
#include "data/data_test_util.h"
#include "data/formats.h"

using namespace detlab;
using namespace detlab::test;
namespace fs = std::filesystem;

TEST_CASE("read_dlib_xml reads dlib's face training and testing sets", "[data][dlib]") {
  const Dataset train = read_dlib_xml(test_data("dlib-faces/training.xml"));
  CHECK(train.format == "dlib");
  CHECK(train.name == "Training faces");
  CHECK(train.class_names == std::vector<std::string>{"object"});  // boxes without <label>
  CHECK(train.images.size() == 4);
  CHECK(train.num_objects() == 18);
  // sorted by name: 2007_007763 first; its first box is top=90 left=194 width=37 height=37
  const ImageRecord& r = train.images[0];
  CHECK(r.name == "2007_007763");
  CHECK(r.width == 500);
  CHECK(r.height == 375);
  CHECK(r.objects[0].box == Box{194, 90, 231, 127});
  CHECK(train.load_image(0).size() == cv::Size(500, 375));
  const Dataset test = read_dlib_xml(test_data("dlib-faces/testing.xml"));
  CHECK(test.images.size() == 5);
  CHECK(test.num_objects() == 25);
}

TEST_CASE("write_dlib_xml round-trips dlib's files exactly", "[data][dlib]") {
  TempDir tmp("dlib_write");
  for (const char* name : {"training.xml", "testing.xml"}) {
    const Dataset ds = read_dlib_xml(test_data(std::string("dlib-faces/") + name));
    write_dlib_xml(ds, tmp / name);
    const Dataset back = read_dlib_xml(tmp / name);
    CHECK(back.name == ds.name);
    CHECK(back.class_names == ds.class_names);
    REQUIRE(back.images.size() == ds.images.size());
    for (size_t i = 0; i < ds.images.size(); ++i) {
      CHECK(back.images[i].file == ds.images[i].file);
      CHECK(back.images[i].width == ds.images[i].width);
      REQUIRE(back.images[i].objects.size() == ds.images[i].objects.size());
      for (size_t k = 0; k < ds.images[i].objects.size(); ++k)
        CHECK(back.images[i].objects[k].box == ds.images[i].objects[k].box);
    }
    // the unlabelled single-class set is written without <label>, as imglab does
    std::ifstream in(tmp / name);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("<label>") == std::string::npos);
    if (std::string(name) == "training.xml")
      CHECK(text.find("<box top='90' left='194' width='37' height='37'/>") != std::string::npos);
  }
}

TEST_CASE("write_dlib_xml keeps labels and ignore flags, VOC boxes survive a dlib round trip", "[data][dlib]") {
  TempDir tmp("dlib_voc");
  const Dataset voc = read_voc(test_data("voc2012-sample"));
  write_dlib_xml(voc, tmp / "voc.xml");
  const Dataset back = read_dlib_xml(tmp / "voc.xml");
  REQUIRE(back.images.size() == voc.images.size());
  size_t difficult = 0;
  for (size_t i = 0; i < voc.images.size(); ++i) {
    const std::vector<FlatObject> a = flat_objects(voc, voc.images[i]), b = flat_objects(back, back.images[i]);
    REQUIRE(a.size() == b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      CHECK(a[k].cls == b[k].cls);
      CHECK(a[k].box == b[k].box);
      CHECK(a[k].difficult == b[k].difficult);
      difficult += b[k].difficult;
    }
  }
  CHECK(difficult == 38);
}

TEST_CASE("read_dlib_xml bad input names the file and the field", "[data][dlib][bad_input]") {
  TempDir tmp("dlib_bad");
  auto msg_for = [&](const std::string& images) {
    std::ofstream(tmp / "d.xml") << "<dataset><images>" << images << "</images></dataset>";
    return input_error_of([&] { read_dlib_xml(tmp / "d.xml"); });
  };
  CHECK(msg_for("<image file='a.jpg'><box left='1' width='5' height='5'/></image>").find("d.xml: images.image[0].box[0].top: missing") !=
        std::string::npos);
  CHECK(msg_for("<image file='a.jpg'><box top='1' left='1' width='-5' height='5'/></image>").find("inverted") !=
        std::string::npos);
  CHECK(msg_for("<image file='../x/a.jpg'></image>").find("images.image[0].file") != std::string::npos);
  CHECK(msg_for("<image file='/abs/a.jpg'></image>").find("images.image[0].file") != std::string::npos);
  CHECK(msg_for("").find("no images") != std::string::npos);
  std::string deep;  // unclosed, 70 levels: refused by the depth scan before the parser sees it
  for (int i = 0; i < 70; ++i) deep += "<image>";
  CHECK(msg_for(deep).find("d.xml: xml: elements nested deeper than 64") != std::string::npos);
  std::ofstream(tmp / "e.xml") << "<annotation></annotation>";
  CHECK(input_error_of([&] { read_dlib_xml(tmp / "e.xml"); }).find("e.xml: dataset") != std::string::npos);
}
