// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// COCO bbox evaluation with pycocotools' COCOeval semantics: per-image matching, accumulation, summary.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/detections.h"

namespace detlab {

/// An object-size bucket of the COCO metric; bounds are inclusive ([min, max], as pycocotools).
struct AreaRange {
  std::string label;
  double min = 0;
  double max = 1e10;
};

/// IoU thresholds .50:.05:.95 exactly as pycocotools builds them (numpy.linspace, so .90 is 0.8999999999999999).
std::vector<double> coco_iou_thresholds();
/// The 101 recall thresholds 0:.01:1 (numpy.linspace, as pycocotools).
std::vector<double> coco_rec_thresholds();
/// all [0, 1e5^2], small [0, 32^2], medium [32^2, 96^2], large [96^2, 1e5^2] (pixels^2, pycocotools' bounds).
std::vector<AreaRange> coco_area_ranges();

struct CocoEvalOptions {
  std::vector<double> iou_thresholds = coco_iou_thresholds();
  std::vector<double> rec_thresholds = coco_rec_thresholds();
  /// Detections kept per image and category, ascending. As in pycocotools the last one bounds the matching.
  std::vector<int> max_dets = {1, 10, 100};
  std::vector<AreaRange> area_ranges = coco_area_ranges();
  int threads = 0;  ///< categories are evaluated in parallel; 0 = all cores. Results do not depend on it.
};

/// Matching results of one category over all images: pycocotools' evaluateImg output, concatenated.
struct CocoCategoryMatches {
  /// Detections in pycocotools' concatenation order: images by ascending id; within an image by descending
  /// score (stable in input order), at most max_dets.back() of them.
  std::vector<double> scores;
  std::vector<int32_t> rank;   ///< position of each detection in its image's score order (maxDet truncation)
  std::vector<uint8_t> state;  ///< [A][T][D]: kFalsePositive, kTruePositive or kIgnored
  std::vector<int64_t> num_gt; ///< [A]: ground truth that is not ignored (not crowd, area inside the range)
  static constexpr uint8_t kFalsePositive = 0, kTruePositive = 1, kIgnored = 2;
};

/// Output of the evaluate step (pycocotools' COCOeval.evaluate()).
struct CocoMatches {
  CocoEvalOptions options;
  std::vector<int64_t> category_ids;  ///< per label; the summary averages categories in ascending id order
  std::vector<CocoCategoryMatches> categories;  ///< per label
};

/// The accumulated COCO evaluation (pycocotools' COCOeval.eval plus stats).
/// Arrays are row-major; T = iou thresholds, R = recall thresholds, K = classes (labels), A = area ranges,
/// M = max_dets. -1 marks a (category, area) without ground truth, exactly as pycocotools.
struct CocoEvalResult {
  CocoEvalOptions options;
  std::vector<int64_t> category_ids;
  int num_classes = 0;
  std::vector<double> precision;  ///< [T][R][K][A][M]
  std::vector<double> recall;     ///< [T][K][A][M]
  std::vector<double> scores;     ///< [T][R][K][A][M]: the score at which each precision point is reached
  std::vector<int64_t> num_gt;    ///< [K][A]: ground truth that is not ignored
  /// AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl (see coco_stats()).
  std::array<double, 12> stats{};

  size_t T() const { return options.iou_thresholds.size(); }
  size_t R() const { return options.rec_thresholds.size(); }
  size_t A() const { return options.area_ranges.size(); }
  size_t M() const { return options.max_dets.size(); }
  double precision_at(size_t t, size_t r, size_t k, size_t a, size_t m) const {
    return precision[(((t * R() + r) * num_classes + k) * A() + a) * M() + m];
  }
  double recall_at(size_t t, size_t k, size_t a, size_t m) const {
    return recall[((t * num_classes + k) * A() + a) * M() + m];
  }
  double score_at(size_t t, size_t r, size_t k, size_t a, size_t m) const {
    return scores[(((t * R() + r) * num_classes + k) * A() + a) * M() + m];
  }
};

/// The 12 summary names in pycocotools' order (also the metrics.json keys).
const std::array<const char*, 12>& coco_stat_names();

/// pycocotools' evaluate(): per image and category, gt sorted by ignore flag, detections by score (stable)
/// and cut at max_dets.back(), IoU in double precision (crowd gt: intersection / detection area), greedy
/// matching per IoU threshold preferring non-ignored gt, unmatched detections outside the area range ignored.
/// Detection area is the box's w * h, gt area its `area` field (else the box area). Crowd gt is ignored;
/// `difficult` plays no part (pycocotools has no such flag). Boxes are the Dataset's floats, widened to double.
/// requires: check_detections(gt, dets); thresholds non-empty, max_dets non-empty and positive.
CocoMatches coco_match(const Dataset& gt, const DetectionSet& dets, const CocoEvalOptions& opts = {});

/// pycocotools' accumulate() (cumulative sums in double, tp / (tp + fp + eps), precision envelope from the
/// right, recall thresholds searchsorted left) followed by coco_stats().
CocoEvalResult coco_accumulate(const CocoMatches& matches);

/// coco_match + coco_accumulate.
CocoEvalResult evaluate_coco(const Dataset& gt, const DetectionSet& dets, const CocoEvalOptions& opts = {});

/// One number of the summary, as pycocotools' _summarize(): the mean of precision (ap) or recall over the
/// entries > -1, at one IoU threshold (iou < 0: all of them; otherwise the threshold must equal iou exactly),
/// the area range labelled `area` and max_dets == max_det; -1 when nothing is selected. numpy's mean is
/// reproduced bit for bit (pairwise summation, categories in ascending id order).
double coco_summarize(const CocoEvalResult& r, bool ap, double iou, const std::string& area, int max_det);

/// The 12 stats in pycocotools' order, generalised to any max_dets: AP* use max_dets.back() (pycocotools
/// hard-codes 100 for AP and max_dets[2] for the rest), AR1 / AR10 use max_dets[0] / max_dets[1] (the last
/// one when there are fewer), AR100 and ARs/m/l max_dets.back(). With the defaults this is pycocotools.
std::array<double, 12> coco_stats(const CocoEvalResult& r);

/// The summary text pycocotools prints (" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | ...").
std::string format_coco_summary(const CocoEvalResult& r);

/// AP of one class: mean precision over IoU thresholds (or the one equal to iou when iou >= 0) and recall
/// thresholds, area "all", max_dets.back(); -1 when the class has no ground truth.
double coco_class_ap(const CocoEvalResult& r, int label, double iou = -1);

}  // namespace detlab
