// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Synthetic shapes dataset: bit-identical determinism, sanity of boxes and classes, writing it as VOC.
#include <catch2/catch.hpp>

#include <map>

#include <opencv2/core.hpp>

#include "core/box_ops.h"
#include "core/error.h"
#include "core/hash.h"
#include "data/data_test_util.h"
#include "data/formats.h"
#include "data/synthetic.h"

using namespace detlab;
using namespace detlab::test;

namespace {

// FNV-1a over the pixels and boxes: a fingerprint of the generator's output.
uint64_t fingerprint(const Dataset& ds) {
  Fnv1a h;
  auto feed = [&](const void* p, size_t n) { h.update(p, n); };
  for (const ImageRecord& r : ds.images) {
    const cv::Mat& m = ds.memory_images.at(r.name);
    for (int y = 0; y < m.rows; ++y) feed(m.ptr(y), m.cols * m.elemSize());
    for (const Object& o : r.objects) feed(&o.box, sizeof o.box), feed(&o.label, sizeof o.label);
  }
  return h.value();
}

SyntheticOptions small(uint64_t seed) {
  SyntheticOptions o;
  o.num_images = 12;
  o.seed = seed;
  return o;
}

}  // namespace

TEST_CASE("make_synthetic: the same seed gives identical pixels and boxes", "[data][synthetic]") {
  const Dataset a = make_synthetic(small(7)), b = make_synthetic(small(7));
  REQUIRE(a.images.size() == 12);
  for (size_t i = 0; i < a.images.size(); ++i) {
    const cv::Mat &pa = a.memory_images.at(a.images[i].name), &pb = b.memory_images.at(b.images[i].name);
    CHECK(cv::norm(pa, pb, cv::NORM_INF) == 0);
    REQUIRE(a.images[i].objects.size() == b.images[i].objects.size());
    for (size_t k = 0; k < a.images[i].objects.size(); ++k) {
      CHECK(a.images[i].objects[k].box == b.images[i].objects[k].box);
      CHECK(a.images[i].objects[k].label == b.images[i].objects[k].label);
    }
  }
  CHECK(fingerprint(a) == fingerprint(b));
  CHECK(fingerprint(make_synthetic(small(8))) != fingerprint(a));
  // image i depends on (seed, i) only
  SyntheticOptions more = small(7);
  more.num_images = 20;
  const Dataset c = make_synthetic(more);
  CHECK(cv::norm(c.memory_images.at("synth_000005"), a.memory_images.at("synth_000005"), cv::NORM_INF) == 0);
}

TEST_CASE("make_synthetic output is the same on every machine (golden fingerprint)", "[data][synthetic]") {
  // Recorded from this implementation; integer-only sampling and drawing make it portable. A change here
  // means the generator changed: update the constant deliberately, since trained results depend on the data.
  CHECK(fingerprint(make_synthetic(small(2024))) == 0xf7df2703230ae9b7ull);
}

TEST_CASE("make_synthetic defaults: boxes inside, little overlap, balanced classes, 160/40/40 splits", "[data][synthetic]") {
  const SyntheticOptions o;
  const Dataset ds = make_synthetic(o);
  CHECK(ds.format == "synthetic");
  CHECK(ds.images.size() == 240);
  CHECK(ds.splits.at("train").size() == 160);
  CHECK(ds.splits.at("val").size() == 40);
  CHECK(ds.splits.at("test").size() == 40);
  CHECK(ds.class_names == o.classes);
  std::map<int, int> per_class;
  size_t objects = 0;
  for (const ImageRecord& r : ds.images) {
    CHECK(r.width == 256);
    CHECK(ds.memory_images.at(r.name).size() == cv::Size(256, 256));
    CHECK(ds.memory_images.at(r.name).type() == CV_8UC3);
    CHECK(r.objects.size() >= 1);
    CHECK(r.objects.size() <= 4);
    for (size_t k = 0; k < r.objects.size(); ++k) {
      const Box& b = r.objects[k].box;
      CHECK(b.x1 >= 0);
      CHECK(b.y1 >= 0);
      CHECK(b.x2 <= 256);
      CHECK(b.y2 <= 256);
      CHECK(b.width() >= 2);
      CHECK(b.height() >= 2);
      CHECK(std::max(b.width(), b.height()) <= 96);
      ++per_class[r.objects[k].label];
      for (size_t m = k + 1; m < r.objects.size(); ++m) CHECK(iou(b, r.objects[m].box) <= o.max_iou + 1e-6f);
    }
    objects += r.objects.size();
  }
  CHECK(objects > 240 * 2);  // 1-4 objects, most images get all they asked for
  REQUIRE(per_class.size() == 4);
  for (const auto& [label, n] : per_class) {
    CHECK(n > 0.75 * objects / 4);
    CHECK(n < 1.25 * objects / 4);
  }
}

TEST_CASE("make_synthetic: objects contrast with the background around them", "[data][synthetic]") {
  SyntheticOptions o = small(3);
  o.occlusion_prob = 0;
  o.classes = {"rectangle"};  // the box is all object: its mean is the object's colour
  const Dataset ds = make_synthetic(o);
  for (const ImageRecord& r : ds.images) {
    cv::Mat bgr = ds.memory_images.at(r.name);
    cv::Mat lum(bgr.size(), CV_32F);
    for (int y = 0; y < bgr.rows; ++y)
      for (int x = 0; x < bgr.cols; ++x) {
        const cv::Vec3b p = bgr.at<cv::Vec3b>(y, x);
        lum.at<float>(y, x) = 0.114f * p[0] + 0.587f * p[1] + 0.299f * p[2];
      }
    // the largest object is drawn first and never covered by more than half: compare its box with a ring around it
    const Object* big = &r.objects[0];
    for (const Object& ob : r.objects)
      if (area(ob.box) > area(big->box)) big = &ob;
    const cv::Rect in(int(big->box.x1), int(big->box.y1), int(big->box.width()), int(big->box.height()));
    const cv::Rect out = (in + cv::Size(8, 8) - cv::Point(4, 4)) & cv::Rect(0, 0, bgr.cols, bgr.rows);
    const double sum_out = cv::sum(lum(out))[0] - cv::sum(lum(in))[0];
    const double mean_out = sum_out / (out.area() - in.area());
    const double mean_in = cv::mean(lum(in))[0];
    if (r.objects.size() == 1) CHECK(std::abs(mean_in - mean_out) > 40);
  }
}

TEST_CASE("make_synthetic writes as VOC and reads back with identical pixels and boxes", "[data][synthetic]") {
  TempDir tmp("synth_voc");
  const Dataset ds = make_synthetic(small(11));
  write_voc(ds, tmp / "voc");
  const Dataset back = read_voc(tmp / "voc");
  CHECK(back.class_names == ds.class_names);
  CHECK(back.splits == ds.splits);
  REQUIRE(back.images.size() == ds.images.size());
  for (size_t i = 0; i < ds.images.size(); ++i) {
    CHECK(cv::norm(back.load_image(i), ds.load_image(i), cv::NORM_INF) == 0);  // PNG is lossless
    REQUIRE(back.images[i].objects.size() == ds.images[i].objects.size());
    for (size_t k = 0; k < ds.images[i].objects.size(); ++k)
      CHECK(back.images[i].objects[k].box == ds.images[i].objects[k].box);
  }
}

TEST_CASE("make_synthetic rejects bad options with an InputError naming the option", "[data][synthetic][bad_input]") {
  SyntheticOptions o = small(1);
  o.classes = {"ellipse", "hexagon"};
  CHECK(input_error_of([&] { make_synthetic(o); }).find("synthetic.classes: unknown shape 'hexagon'") != std::string::npos);
  o = small(1);
  o.max_size = 1000;
  CHECK(input_error_of([&] { make_synthetic(o); }).find("synthetic.max_size") != std::string::npos);
  o = small(1);
  o.num_images = 0;
  CHECK(input_error_of([&] { make_synthetic(o); }).find("synthetic.num_images") != std::string::npos);
  CHECK(synthetic_shapes().size() == 6);
}
