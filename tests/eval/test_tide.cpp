// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// TIDE error breakdown on a hand-computed image that has one error of every kind.
#include <catch2/catch.hpp>

#include "data/formats.h"
#include "eval/eval_test_util.h"
#include "eval/tide.h"

using namespace detlab;
using namespace detlab::testing;

namespace {

// gt: A c0, B c1, C c0, D c0. Detections by score:
//   p1 c0 on A: TP          p2 c0 on A again: Dupe     p3 c0 on B: Cls (B's best fix)
//   p4 c1 near B (IoU .43): Loc (B's fix goes to p3)   p5 c0 on nothing: Bkg
//   p6 c1 over a third of A (IoU .3, wrong class): Both   p7 c0 on C: TP        D: Miss
void every_error(Dataset& gt, DetectionSet& dets) {
  gt = make_dataset(2, {1});
  gt.images[0].objects = {object(0, {0, 0, 10, 10}), object(1, {100, 0, 110, 10}), object(0, {200, 0, 210, 10}),
                          object(0, {400, 0, 410, 10})};
  dets = {{1,
           {det(0, {300, 300, 310, 310}, 0.5f), det(0, {0, 0, 10, 10}, 0.9f), det(0, {0, 0, 10, 10}, 0.8f),
            det(1, {0, 0, 10, 3}, 0.4f), det(0, {100, 0, 110, 10}, 0.7f), det(1, {104, 0, 114, 10}, 0.6f),
            det(0, {200, 0, 210, 10}, 0.3f)}}};
}

}  // namespace

TEST_CASE("tide classifies every error type and computes tidecv's fixed APs", "[eval][tide]") {
  Dataset gt;
  DetectionSet dets;
  every_error(gt, dets);
  const TideResult r = tide_errors(gt, dets);
  for (int t = 0; t < 6; ++t) {
    INFO(tide_error_names()[t]);
    CHECK(r.counts[t] == 1);
  }
  // c0: TP FP FP FP TP over 3 gt -> envelope [1, .5, .4, .4, .4] at recall [1/3 x4, 2/3]: 34 points of 1,
  // 33 of .4 (of 101). c1: no TP -> 0.
  const double ap0 = (34 + 33 * 0.4) / 101;
  CHECK(r.ap == Approx(ap0 / 2).epsilon(1e-12));
  const double e = 1e-12;
  // Cls: p3 becomes a c1 TP (AP1 = 1) and leaves c0 (TP FP FP TP: 34 x 1 + 33 x .5).
  CHECK(r.delta_ap[0] == Approx(((34 + 33 * 0.5) / 101 + 1) / 2 - ap0 / 2).epsilon(e));
  // Loc: B's fix belongs to p3 (higher score), so p4 is only dropped: c1 still has no TP.
  CHECK(r.delta_ap[1] == 0.0);
  CHECK(r.delta_ap[2] == 0.0);  // Both: dropping a c1 false positive leaves AP1 = 0
  CHECK(r.delta_ap[3] == Approx(((34 + 33 * 0.5) / 101 - ap0) / 2).epsilon(e));  // Dupe
  CHECK(r.delta_ap[4] == Approx(((34 + 33 * 0.5) / 101 - ap0) / 2).epsilon(e));  // Bkg
  CHECK(r.delta_ap[5] == Approx(((51 + 50 * 0.4) / 101 - ap0) / 2).epsilon(e));  // Miss: 2 gt left in c0
  // Special: false positives scored 0 -> c0 precision 1 up to recall 2/3 (67 points).
  CHECK(r.delta_ap_false_pos == Approx((67.0 / 101 - ap0) / 2).epsilon(e));
  // False negatives removed: c0 has 2 gt (like Miss), c1 has 0 gt but detections, so it still counts as 0.
  CHECK(r.delta_ap_false_neg == Approx(((51 + 50 * 0.4) / 101 - ap0) / 2).epsilon(e));
  CHECK(format_tide(r).find("Cls") != std::string::npos);
}

TEST_CASE("tide drops detections inside crowd regions of their class", "[eval][tide]") {
  Dataset gt = make_dataset(2, {1, 2});
  gt.images[0].objects = {object(0, {0, 0, 10, 10}), object(0, {50, 50, 100, 100}, /*crowd=*/true)};
  const DetectionSet dets = {{1, {det(0, {0, 0, 10, 10}, 0.9f), det(0, {60, 60, 70, 70}, 0.95f),
                                  det(1, {60, 60, 70, 70}, 0.3f)}}};
  const TideResult r = tide_errors(gt, dets);
  // The c0 detection in the crowd is ignored; the c1 one is not (other class): a background error of a class
  // without gt, which tidecv still averages in as AP 0.
  CHECK(r.ap == Approx(0.5).epsilon(1e-12));
  CHECK(r.counts == std::array<int64_t, 6>{0, 0, 0, 0, 1, 0});
  CHECK(r.delta_ap[4] == Approx(0.5).epsilon(1e-12));  // fixing it empties c1, which leaves the mean
}

TEST_CASE("tide: images without detections are all misses, max_dets cuts per image", "[eval][tide]") {
  Dataset gt = make_dataset(1, {1, 2});
  gt.images[0].objects = {object(0, {0, 0, 10, 10})};
  gt.images[1].objects = {object(0, {0, 0, 10, 10})};
  DetectionSet dets = {{2, {det(0, {50, 50, 60, 60}, 0.9f), det(0, {0, 0, 10, 10}, 0.8f)}}};
  TideResult r = tide_errors(gt, dets);
  CHECK(r.counts[5] == 1);
  CHECK(r.counts[4] == 1);
  TideOptions one;
  one.max_dets = 1;
  r = tide_errors(gt, dets, one);
  CHECK(r.ap == 0.0);
  CHECK(r.counts[5] == 2);
}

TEST_CASE("tide on the COCO sample agrees with a Python transcription of tidecv", "[eval][tide]") {
  // Values from tidecv's TIDERun logic transcribed line by line in Python (numpy box IoU in place of
  // pycocotools' mask.iou), run on the same files; tidecv prints them x100.
  const Dataset gt = read_coco(eval_data("coco-sample/gt.json"));
  const TideResult r = tide_errors(gt, read_coco_results(eval_data("coco-sample/dets.json"), gt));
  CHECK(r.ap == Approx(0.64204988817334).margin(1e-8));
  CHECK(r.counts == std::array<int64_t, 6>{83, 1, 0, 1, 0, 97});
  const std::array<double, 6> expected = {0.22246039744168, 0.00227891023707, 0, 0.00018972971237, 0,
                                          0.08523573787723};
  for (int t = 0; t < 6; ++t) {
    INFO(tide_error_names()[t]);
    CHECK(r.delta_ap[t] == Approx(expected[t]).margin(1e-8));
  }
  CHECK(r.delta_ap_false_pos == Approx(0.06821587524510).margin(1e-8));
  CHECK(r.delta_ap_false_neg == Approx(0.17684978535217).margin(1e-8));
}
