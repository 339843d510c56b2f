// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// dlib_fhog: trains one detector per class, finds the objects, persists, refuses corrupt files.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "core/box_ops.h"
#include "core/error.h"
#include "detectors/detector_test_util.h"
#include "detectors/dlib_fhog.h"

using namespace detlab;

TEST_CASE("dlib_fhog finds the synthetic objects and round-trips through its model folder", "[detectors][dlib_fhog]") {
  // dlib's scanner drops border cells and pads its windows: it needs images several windows wide, so this
  // test uses the generator's 256 x 256 default rather than tiny_synthetic's 128 x 128.
  SyntheticOptions so;
  so.num_images = 90;
  so.classes = {"ellipse", "cross"};
  so.max_aspect = 1.2f;
  so.seed = 3;
  const Dataset ds = make_synthetic(so);
  const Dataset train = ds.subset("train"), test = ds.subset("test");
  DlibFhogOptions o = parse_dlib_fhog(Config::parse("{C: 10, adjust_threshold: -0.5}"), ds.class_names);
  auto det = make_dlib_fhog(o, "hash");
  TrainContext tc;
  tc.train = &train;
  tc.threads = 2;
  det->fit(tc);
  REQUIRE(det->num_parameters() > 0);

  // Most test objects are found at IoU >= 0.5 by a detection of their class.
  int found = 0, total = 0;
  std::vector<Detections> before;
  for (size_t i = 0; i < test.images.size(); ++i) {
    const Image img{test.images[i].name, test.load_image(i)};
    StageTimes times;
    Detections d = det->detect(img, &times);
    test::check_detections_contract(d, img.bgr.cols, img.bgr.rows, 2);
    REQUIRE(times.size() == 2);
    for (const Object& obj : test.images[i].objects) {
      ++total;
      for (const Detection& x : d)
        if (x.label == obj.label && iou(x.box, obj.box) >= 0.5f) {
          ++found;
          break;
        }
    }
    before.push_back(std::move(d));
  }
  INFO(found << " of " << total << " test objects found");
  REQUIRE(found >= 0.6 * total);

  const auto dir = test::temp_dir("dlib_fhog_model");
  det->save(dir);
  auto loaded = make_dlib_fhog(o, "hash");
  loaded->load(dir);
  for (size_t i = 0; i < test.images.size(); ++i) {
    const Detections d = loaded->detect(Image{test.images[i].name, test.load_image(i)});
    REQUIRE(d.size() == before[i].size());
    for (size_t k = 0; k < d.size(); ++k) REQUIRE(d[k].score == before[i][k].score);
  }

  // The evidence of a detection's window (what visualize explains): dlib's own feature vector dotted with the
  // filter gives the detection's confidence (the reported score is its sigmoid; dlib scans with a separable
  // approximation of the filter), and the per-cell terms add up to it plus the filter's threshold.
  int checked = 0;
  for (size_t i = 0; i < test.images.size() && checked < 5; ++i) {
    const cv::Mat bgr = test.load_image(i);
    for (const Detection& x : before[i]) {
      if (x.score <= 0.f || x.score >= 1.f || x.box.x1 <= 0 || x.box.y1 <= 0 || x.box.x2 >= bgr.cols ||
          x.box.y2 >= bgr.rows)
        continue;  // saturated or clipped by postprocess: no longer dlib's own rectangle
      const std::optional<FhogWindowEvidence> e = dlib_fhog_evidence(*loaded, bgr, x.box, x.label);
      REQUIRE(e.has_value());
      const double logit = std::log(double(x.score) / (1.0 - double(x.score)));
      CHECK(e->confidence == Approx(logit).margin(2e-3));
      CHECK(e->contributions.cols * e->contributions.rows > 1);
      CHECK(e->grid.x1 < x.box.x1);  // the filter's padding cells reach beyond the window
      CHECK(e->grid.x2 > x.box.x2);
      ++checked;
      break;
    }
  }
  CHECK(checked > 0);

  // A corrupt detector file is an InputError naming it.
  std::ofstream(dir / "dlib_fhog_0.svm", std::ios::trunc) << "garbage";
  REQUIRE_THROWS_WITH(make_dlib_fhog(o, "hash")->load(dir), Catch::Contains("dlib_fhog_0.svm"));
  REQUIRE_THROWS_AS(make_dlib_fhog(o, "hash")->detect(Image{"x", test.load_image(0)}), std::invalid_argument);
}

TEST_CASE("dlib_fhog config", "[detectors][dlib_fhog]") {
  REQUIRE_THROWS_AS(parse_dlib_fhog(Config::parse("{upsample: 3}"), {"a"}), InputError);
  REQUIRE_THROWS_AS(parse_dlib_fhog(Config::parse("{C: -1}"), {"a"}), InputError);
  REQUIRE_THROWS_AS(parse_dlib_fhog(Config::parse("{}"), {}), InputError);
  const auto o = parse_dlib_fhog(Config::parse("{window_area: 1600, max_images: 10, postprocess: {nms_iou: 0.2}}"), {"a"});
  REQUIRE(o.window_area == 1600);
  REQUIRE(o.max_images == 10);
  REQUIRE(o.post.nms_iou == 0.2f);
}
