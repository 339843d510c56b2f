// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// VOC evaluation: published voc_eval values (voc-case1, voc-toy), difficult objects, 11-point edge, threads.
#include <catch2/catch.hpp>

#include <cmath>

#include "data/formats.h"
#include "eval/eval_test_util.h"
#include "eval/numeric.h"
#include "eval/voc_eval.h"

using namespace detlab;
using namespace detlab::testing;

namespace {

VocOptions voc(double iou, bool use_07, bool plus_one = true) {
  VocOptions o;
  o.iou_threshold = iou;
  o.use_07_metric = use_07;
  o.plus_one = plus_one;
  o.threads = 1;
  return o;
}

}  // namespace

TEST_CASE("voc 11-point thresholds are numpy.arange(0, 1.1, 0.1)", "[eval][voc]") {
  const auto t = numpy_arange(0., 1.1, 0.1);
  REQUIRE(t.size() == 11);
  CHECK(t[3] == 0.30000000000000004);
  CHECK(t[6] == 0.6000000000000001);
  CHECK(t[7] == 0.7000000000000001);
  CHECK(t[10] == 1.0);
  // A recall of exactly 0.6 does not reach the 7th threshold: 6 thresholds of precision 1 -> 6/11.
  CHECK(voc_ap({0.6}, {1.0}, true) == Approx(6.0 / 11).epsilon(1e-15));
  CHECK(voc_ap({0.6}, {1.0}, false) == 0.6);
}

TEST_CASE("voc golden: voc-case1 (7 images, +1 areas, x2 = left + width)", "[eval][voc][golden]") {
  const TextFixture f = read_text_fixture(eval_data("voc-case1"), /*xywh=*/true);
  REQUIRE(f.gt.images.size() == 7);
  // tests/data/eval/README.md: IoU threshold -> (11-point AP, every-point AP).
  const std::vector<std::array<double, 3>> expected = {{0.10, 0.3333333333, 0.3371980676},
                                                       {0.30, 0.2683982683, 0.2456866804},
                                                       {0.50, 0.0303030303, 0.0222222222},
                                                       {0.75, 0.0, 0.0}};
  for (const auto& [iou, ap11, ap_all] : expected) {
    INFO("IoU " << iou);
    const VocResult r07 = evaluate_voc(f.gt, f.dets, voc(iou, true));
    const VocResult r12 = evaluate_voc(f.gt, f.dets, voc(iou, false));
    CHECK(r07.classes[0].ap == Approx(ap11).margin(1e-9).epsilon(0));
    CHECK(r12.classes[0].ap == Approx(ap_all).margin(1e-9).epsilon(0));
    CHECK(r07.map == r07.classes[0].ap);
  }
}

TEST_CASE("voc golden: voc-toy (10 images, class cat)", "[eval][voc][golden]") {
  // Ground truth from the COCO copy of the VOC XML (bbox = raw xmin, ymin, xmax - xmin, ymax - ymin, as the
  // reference read it), detections "cat score x1 y1 x2 y2" matched to images by file stem.
  const Dataset gt = read_coco(eval_data("voc-toy/gts_coco_format/toy_example_coco.JSON"));
  REQUIRE(gt.images.size() == 10);
  DetectionSet dets;
  for (const auto& file : sorted_files(eval_data("voc-toy/dets"), ".txt")) {
    const int i = gt.find_image_by_name(file.stem().string());
    REQUIRE(i >= 0);
    ImageDetections d{gt.images[i].id, {}};
    std::ifstream in(file);
    std::string cls;
    double score;
    while (in >> cls >> score) d.dets.push_back(det(gt.label_of_category(0), read_box(in, false), float(score)));
    dets.push_back(d);
  }
  REQUIRE(num_detections(dets) > 0);
  // README: IoU 0.5 -> every-point 0.8958, 11-point 0.8864; IoU 0.75 -> 0.5097, 0.4924 (to 1e-4), with or
  // without the +1 convention.
  for (bool plus_one : {true, false}) {
    INFO("plus_one " << plus_one);
    CHECK(evaluate_voc(gt, dets, voc(0.5, false, plus_one)).map == Approx(0.8958).margin(1e-4));
    CHECK(evaluate_voc(gt, dets, voc(0.5, true, plus_one)).map == Approx(0.8864).margin(1e-4));
    CHECK(evaluate_voc(gt, dets, voc(0.75, false, plus_one)).map == Approx(0.5097).margin(1e-4));
    CHECK(evaluate_voc(gt, dets, voc(0.75, true, plus_one)).map == Approx(0.4924).margin(1e-4));
  }
}

TEST_CASE("voc: difficult objects are neither true nor false positives, and not counted", "[eval][voc]") {
  Dataset gt = make_dataset(1, {1});
  gt.images[0].objects = {object(0, {0, 0, 10, 10}), object(0, {100, 100, 110, 110}, false, /*difficult=*/true)};
  // The detection on the difficult object scores highest; it must not lower precision.
  const DetectionSet dets = {{1, {det(0, {100, 100, 110, 110}, 0.9f), det(0, {0, 0, 10, 10}, 0.8f)}}};
  const VocResult r = evaluate_voc(gt, dets, voc(0.5, false));
  REQUIRE(r.classes[0].num_gt == 1);
  CHECK(r.classes[0].num_tp == 1);
  CHECK(r.classes[0].ap == 1.0);
  // Row 0 (the difficult match) keeps tp = fp = 0: precision 0 / max(0, eps) = 0, recall 0.
  CHECK(r.classes[0].precision[0] == 0.0);
  CHECK(r.classes[0].precision[1] == 1.0);
}

TEST_CASE("voc: duplicates are false positives, the best-IoU gt is taken even when already matched",
          "[eval][voc]") {
  Dataset gt = make_dataset(1, {1});
  gt.images[0].objects = {object(0, {0, 0, 10, 10}), object(0, {6, 0, 16, 10})};
  // Second detection overlaps gt 0 best (IoU .67 vs .43) although gt 0 is taken: voc_eval.py counts it FP
  // instead of moving to gt 1 (plain IoU here: plus_one off).
  const DetectionSet dets = {{1, {det(0, {0, 0, 10, 10}, 0.9f), det(0, {2, 0, 12, 10}, 0.8f)}}};
  const VocResult r = evaluate_voc(gt, dets, voc(0.3, false, false));
  CHECK(r.classes[0].num_tp == 1);
  CHECK(r.classes[0].recall == std::vector<double>{0.5, 0.5});
  CHECK(r.classes[0].precision == std::vector<double>{1.0, 0.5});
  CHECK(r.classes[0].ap == 0.5);  // all-point: 0.5 * 1
  CHECK(evaluate_voc(gt, dets, voc(0.3, true, false)).classes[0].ap == Approx(6.0 / 11).epsilon(1e-15));
}

TEST_CASE("voc: the IoU test is strict and the +1 convention changes it", "[eval][voc]") {
  Dataset gt = make_dataset(1, {1});
  gt.images[0].objects = {object(0, {0, 0, 10, 10})};
  // Plain IoU 50 / 100 = 0.5 exactly: not above 0.5. With +1 areas: 66 / 121 = 0.545 > 0.5.
  const DetectionSet dets = {{1, {det(0, {0, 0, 10, 5}, 0.9f)}}};
  CHECK(evaluate_voc(gt, dets, voc(0.5, false, false)).classes[0].ap == 0.0);
  CHECK(evaluate_voc(gt, dets, voc(0.5, false, true)).classes[0].ap == 1.0);
}

TEST_CASE("voc: classes without ground truth are NaN and left out of the mAP, no detections give 0",
          "[eval][voc]") {
  Dataset gt = make_dataset(3, {1, 2});
  gt.images[0].objects = {object(0, {0, 0, 10, 10})};
  gt.images[1].objects = {object(2, {0, 0, 10, 10})};
  const DetectionSet dets = {{1, {det(0, {0, 0, 10, 10}, 0.9f), det(1, {0, 0, 10, 10}, 0.8f)}}};
  const VocResult r = evaluate_voc(gt, dets, voc(0.5, false));
  CHECK(r.classes[0].ap == 1.0);
  CHECK(std::isnan(r.classes[1].ap));
  CHECK(r.classes[2].ap == 0.0);
  CHECK(r.map == 0.5);
  const VocResult empty = evaluate_voc(gt, {}, voc(0.5, true));
  CHECK(empty.map == 0.0);
}

TEST_CASE("voc results do not depend on the thread count", "[eval][voc]") {
  Dataset gt;
  DetectionSet dets;
  random_coco_case(7, 50, 6, gt, dets);
  VocOptions one = voc(0.5, false), many = one;
  many.threads = 4;
  const VocResult a = evaluate_voc(gt, dets, one), b = evaluate_voc(gt, dets, many);
  for (size_t k = 0; k < a.classes.size(); ++k) {
    CHECK((a.classes[k].ap == b.classes[k].ap || (std::isnan(a.classes[k].ap) && std::isnan(b.classes[k].ap))));
    CHECK(a.classes[k].precision == b.classes[k].precision);
  }
  CHECK(a.map == b.map);
}
