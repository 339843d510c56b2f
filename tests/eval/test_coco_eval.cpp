// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// COCO evaluation: published pycocotools values, hand-computed cases, the naive reference, thread invariance.
#include <catch2/catch.hpp>

#include "data/formats.h"
#include "eval/coco_eval.h"
#include "eval/coco_reference.h"
#include "eval/eval_test_util.h"

using namespace detlab;
using namespace detlab::testing;

namespace {

// pycocotools' precision is tp / (tp + fp + np.spacing(1)): a lone true positive scores 1 / (1 + 2^-52),
// one ulp below 1, so "perfect" APs are compared with a tolerance.
Approx one() { return Approx(1.0).epsilon(1e-15); }

CocoEvalOptions single_thread() {
  CocoEvalOptions o;
  o.threads = 1;
  return o;
}

void require_same(const CocoEvalResult& a, const CocoEvalResult& b) {
  REQUIRE(a.precision.size() == b.precision.size());
  REQUIRE(a.recall.size() == b.recall.size());
  size_t diff_p = 0, diff_r = 0, diff_s = 0;
  for (size_t i = 0; i < a.precision.size(); ++i) diff_p += a.precision[i] != b.precision[i];
  for (size_t i = 0; i < a.scores.size(); ++i) diff_s += a.scores[i] != b.scores[i];
  for (size_t i = 0; i < a.recall.size(); ++i) diff_r += a.recall[i] != b.recall[i];
  CHECK(diff_p == 0);
  CHECK(diff_s == 0);
  CHECK(diff_r == 0);
  for (size_t i = 0; i < 12; ++i) CHECK(a.stats[i] == b.stats[i]);
}

}  // namespace

TEST_CASE("coco thresholds are numpy.linspace bit for bit", "[eval][coco]") {
  const auto iou = coco_iou_thresholds();
  REQUIRE(iou.size() == 10);
  CHECK(iou[0] == 0.5);
  CHECK(iou[5] == 0.75);
  CHECK(iou[8] == 0.8999999999999999);  // numpy: 0.5 + 8 * (0.45 / 9)
  CHECK(iou[9] == 0.95);
  const auto rec = coco_rec_thresholds();
  REQUIRE(rec.size() == 101);
  for (int i = 0; i < 100; ++i) CHECK(rec[i] == i * 0.01);
  CHECK(rec[100] == 1.0);
}

TEST_CASE("coco golden: pycocotools stats on 100 COCO val2014 images", "[eval][coco][golden]") {
  const Dataset gt = read_coco(eval_data("coco-sample/gt.json"));
  const DetectionSet dets = read_coco_results(eval_data("coco-sample/dets.json"), gt);
  REQUIRE(gt.images.size() == 100);
  REQUIRE(gt.num_objects() == 830);
  REQUIRE(num_detections(dets) == 734);
  const CocoEvalResult r = evaluate_coco(gt, dets);
  // tests/data/eval/README.md: COCOeval(..., 'bbox').stats, printed to 6 decimals.
  const std::array<double, 12> expected = {0.503647, 0.696973, 0.571667, 0.593252, 0.557991, 0.489363,
                                           0.386813, 0.593680, 0.595353, 0.654764, 0.603130, 0.553744};
  for (size_t i = 0; i < 12; ++i) {
    INFO(coco_stat_names()[i]);
    CHECK(r.stats[i] == Approx(expected[i]).margin(1e-6).epsilon(0));
  }
  // The naive port of cocoeval.py agrees bit for bit on real data too.
  require_same(r, reference::evaluate(gt, dets, CocoEvalOptions{}));
}

TEST_CASE("coco: crowd regions absorb detections many-to-one and are never missed", "[eval][coco]") {
  Dataset gt = make_dataset(1, {1});
  gt.images[0].objects = {object(0, {0, 0, 10, 10}), object(0, {20, 0, 40, 20}, /*crowd=*/true)};
  // Two detections inside the crowd region score above the true positive: both are ignored, not false
  // positives (counted as FP they would give AP 1/3).
  const DetectionSet dets = {{1, {det(0, {20, 0, 30, 10}, 0.95f), det(0, {25, 5, 35, 15}, 0.93f),
                                  det(0, {0, 0, 10, 10}, 0.9f)}}};
  const CocoEvalResult r = evaluate_coco(gt, dets, single_thread());
  // AP, AP50, AP75, APs (the gt is 10x10: small), APm, APl (no gt there: -1).
  CHECK(r.stats[0] == one());
  CHECK(r.stats[1] == one());
  CHECK(r.stats[2] == one());
  CHECK(r.stats[3] == one());
  CHECK(r.stats[4] == -1.0);
  CHECK(r.stats[5] == -1.0);
  // AR1: the single kept detection is the ignored one -> recall 0. AR10 / AR100: the crowd is no miss.
  CHECK(r.stats[6] == 0.0);
  CHECK(r.stats[7] == 1.0);
  CHECK(r.stats[8] == 1.0);
  // IoU with a crowd region is intersection / detection area: a detection covering a quarter of the region
  // still matches at every threshold.
  CHECK(r.num_gt[0 * r.A() + 0] == 1);
}

TEST_CASE("coco: images without ground truth or without detections", "[eval][coco]") {
  Dataset gt = make_dataset(1, {1, 2, 3});
  gt.images[0].objects = {object(0, {0, 0, 10, 10})};  // no detection: a miss
  gt.images[2].objects = {object(0, {0, 0, 10, 10})};
  const DetectionSet dets = {{2, {det(0, {0, 0, 10, 10}, 0.9f)}},   // no gt: a false positive
                             {3, {det(0, {0, 0, 10, 10}, 0.8f)}}};  // a true positive
  const CocoEvalResult r = evaluate_coco(gt, dets, single_thread());
  // rc = [0, .5], pr = [0, .5] -> envelope [.5, .5]: precision .5 at recall thresholds 0 .. .50 (51 of 101).
  CHECK(r.stats[0] == Approx(0.5 * 51 / 101).epsilon(1e-15));
  CHECK(r.stats[8] == 0.5);
  CHECK(r.precision_at(0, 50, 0, 0, 2) == 0.5);
  CHECK(r.precision_at(0, 51, 0, 0, 2) == 0.0);
  CHECK(r.score_at(0, 0, 0, 0, 2) == Approx(0.9f));  // reached at the first ranked detection (the FP)
  CHECK(r.score_at(0, 1, 0, 0, 2) == Approx(0.8f));
}

TEST_CASE("coco: categories without ground truth are -1 and left out of the means", "[eval][coco]") {
  Dataset gt = make_dataset(2, {1});
  gt.images[0].objects = {object(0, {0, 0, 50, 50})};
  const DetectionSet dets = {{1, {det(0, {0, 0, 50, 50}, 0.9f), det(1, {60, 60, 90, 90}, 0.95f)}}};
  const CocoEvalResult r = evaluate_coco(gt, dets, single_thread());
  CHECK(r.precision_at(0, 0, 1, 0, 2) == -1.0);
  CHECK(r.recall_at(0, 1, 0, 2) == -1.0);
  CHECK(coco_class_ap(r, 1) == -1.0);
  CHECK(coco_class_ap(r, 0) == one());
  CHECK(r.stats[0] == one());
}

TEST_CASE("coco: an empty detection set gives 0 where there is ground truth", "[eval][coco]") {
  Dataset gt = make_dataset(2, {1, 2});
  gt.images[0].objects = {object(0, {0, 0, 50, 50}), object(1, {0, 0, 200, 200})};
  const CocoEvalResult r = evaluate_coco(gt, {}, single_thread());
  CHECK(r.stats[0] == 0.0);
  CHECK(r.stats[8] == 0.0);
  CHECK(r.stats[3] == -1.0);  // no small gt (50x50 is medium)
  CHECK(r.stats[4] == 0.0);
  CHECK(r.stats[5] == 0.0);
}

TEST_CASE("coco: score ties keep input order within an image and ascending image id across images",
          "[eval][coco]") {
  SECTION("within an image: the first of two tied detections is ranked first") {
    Dataset gt = make_dataset(1, {1});
    gt.images[0].objects = {object(0, {0, 0, 10, 10})};
    const Detection tp = det(0, {0, 0, 10, 10}, 0.5f), fp = det(0, {50, 50, 60, 60}, 0.5f);
    // FP first: rc = [0, 1], pr = [0, .5] -> .5 everywhere. TP first: 1 everywhere.
    CHECK(evaluate_coco(gt, {{1, {fp, tp}}}, single_thread()).stats[0] == 0.5);
    CHECK(evaluate_coco(gt, {{1, {tp, fp}}}, single_thread()).stats[0] == one());
  }
  SECTION("across images: pycocotools concatenates images by ascending id, whatever the dataset order") {
    Dataset gt = make_dataset(1, {2, 1});  // listed id 2 first
    gt.images[0].objects = {object(0, {0, 0, 10, 10})};
    const DetectionSet dets = {{2, {det(0, {0, 0, 10, 10}, 0.5f)}}, {1, {det(0, {0, 0, 10, 10}, 0.5f)}}};
    CHECK(evaluate_coco(gt, dets, single_thread()).stats[0] == 0.5);  // image 1's false positive ranks first
  }
}

TEST_CASE("coco: more than 100 detections in an image are cut at maxDets by score", "[eval][coco]") {
  Dataset gt = make_dataset(1, {1});
  gt.images[0].objects = {object(0, {0, 0, 10, 10})};
  auto with_tp_at = [](int rank) {
    Detections d;
    for (int i = 0; i < 101; ++i)
      d.push_back(i == rank ? det(0, {0, 0, 10, 10}, 1.f - i * 0.001f) : det(0, {500, 500, 510, 510}, 1.f - i * 0.001f));
    std::reverse(d.begin(), d.end());  // input order must not matter
    return DetectionSet{{1, d}};
  };
  const CocoEvalResult cut = evaluate_coco(gt, with_tp_at(100), single_thread());
  CHECK(cut.stats[0] == 0.0);
  CHECK(cut.stats[8] == 0.0);
  const CocoEvalResult kept = evaluate_coco(gt, with_tp_at(99), single_thread());
  CHECK(kept.stats[0] == Approx(1.0 / 100).epsilon(1e-12));  // precision 1/100 at recall 1, envelope flat
  CHECK(kept.stats[6] == 0.0);
  CHECK(kept.stats[7] == 0.0);
  CHECK(kept.stats[8] == 1.0);
  // Other max_dets: the summary follows them (pycocotools' own would print -1 without a 100).
  CocoEvalOptions o = single_thread();
  o.max_dets = {1, 10, 200};
  const CocoEvalResult wide = evaluate_coco(gt, with_tp_at(100), o);
  CHECK(wide.stats[0] == Approx(1.0 / 101).epsilon(1e-12));
  CHECK(wide.stats[8] == 1.0);
  CHECK(format_coco_summary(wide).find("maxDets=200 ] = 0.010") != std::string::npos);
}

TEST_CASE("coco: an IoU equal to the threshold matches (pycocotools tests iou >= t)", "[eval][coco]") {
  Dataset gt = make_dataset(1, {1});
  gt.images[0].objects = {object(0, {0, 0, 10, 10})};
  const CocoEvalResult r = evaluate_coco(gt, {{1, {det(0, {0, 0, 10, 5}, 0.9f)}}}, single_thread());  // IoU .5
  CHECK(r.stats[1] == one());  // AP50
  CHECK(r.stats[2] == 0.0);    // AP75
  CHECK(r.recall_at(0, 0, 0, 2) == 1.0);
  CHECK(r.recall_at(1, 0, 0, 2) == 0.0);
}

TEST_CASE("coco summary prints pycocotools' lines", "[eval][coco]") {
  Dataset gt = make_dataset(1, {1});
  gt.images[0].objects = {object(0, {0, 0, 10, 10})};
  const CocoEvalResult r = evaluate_coco(gt, {{1, {det(0, {0, 0, 10, 10}, 0.9f)}}}, single_thread());
  const std::string s = format_coco_summary(r);
  CHECK(s.find(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000\n") == 0);
  CHECK(s.find(" Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 1.000\n") !=
        std::string::npos);
  CHECK(s.find(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = -1.000\n") !=
        std::string::npos);
  CHECK(s.find(" Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 1.000\n") !=
        std::string::npos);
}

TEST_CASE("coco matches the naive port of cocoeval.py bit for bit on random cases", "[eval][coco]") {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    Dataset gt;
    DetectionSet dets;
    random_coco_case(seed, 60, 4, gt, dets);
    INFO("seed " << seed << ", " << num_detections(dets) << " detections");
    CocoEvalOptions o = single_thread();
    if (seed == 5) o.max_dets = {3, 20, 50};
    if (seed == 6) o.iou_thresholds = {0.3, 0.5, 1.0};  // 1.0 is matched as 1 - 1e-10, as pycocotools
    if (seed == 7) o.area_ranges = {{"all", 0, 1e10}, {"tiny", 0, 100}, {"rest", 100, 1e10}};
    if (seed == 8) o.threads = 3;
    require_same(evaluate_coco(gt, dets, o), reference::evaluate(gt, dets, o));
  }
}

TEST_CASE("coco results do not depend on the thread count", "[eval][coco]") {
  Dataset gt;
  DetectionSet dets;
  random_coco_case(11, 60, 7, gt, dets);
  CocoEvalOptions one = single_thread(), many = single_thread();
  many.threads = 4;
  require_same(evaluate_coco(gt, dets, one), evaluate_coco(gt, dets, many));
}
