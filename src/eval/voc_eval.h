// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// PASCAL VOC evaluation as py-faster-rcnn's voc_eval.py: per-class AP (11-point or all-point) and mAP.
#pragma once

#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/detections.h"

namespace detlab {

struct VocOptions {
  /// A detection is a true positive when its best IoU with a gt of its class is strictly above this.
  double iou_threshold = 0.5;
  /// VOC2007's 11-point interpolated AP (recall thresholds numpy.arange(0, 1.1, 0.1)); false: VOC2010+
  /// all-point AP (area under the monotone precision envelope).
  bool use_07_metric = false;
  /// The devkit's "+1" pixel convention: widths, heights and intersections are x2 - x1 + 1, applied to the Box
  /// coordinates as stored. It reproduces devkit numbers for boxes given in the devkit's own inclusive pixel
  /// numbers. Boxes read by read_voc are already continuous (x1 = xmin - 1), for which the devkit's IoU is the
  /// plain continuous IoU, i.e. legacy_plus_one = false.
  bool legacy_plus_one = true;
  int threads = 0;  ///< classes are evaluated in parallel; 0 = all cores. Results do not depend on it.
};

/// One class: the AP, the ranked precision / recall curve, counts.
struct VocClassResult {
  double ap = 0;          ///< NaN when the class has no non-difficult ground truth
  int64_t num_gt = 0;     ///< non-difficult ground-truth objects (npos)
  int64_t num_dets = 0;
  int64_t num_tp = 0;
  /// Per detection, by descending score: the score, cumulative recall and precision (tp / max(tp + fp, eps)).
  /// Detections matching a difficult object are neither TP nor FP but keep their row (as voc_eval.py).
  std::vector<double> scores, recall, precision;
};

struct VocResult {
  VocOptions options;
  std::vector<VocClassResult> classes;  ///< per label
  double map = 0;  ///< mean AP over classes with ground truth (numpy mean); NaN when none has any
};

/// Evaluates every class. Ground-truth objects marked difficult (and crowd regions, which VOC lacks) are
/// ignored: a detection whose best match is one is neither a true nor a false positive. Detections of a class
/// are ranked by descending score; ties keep image order (gt.images) then input order (numpy's quicksort in
/// voc_eval.py leaves their order unspecified). Each detection takes the gt of highest IoU (first on ties),
/// matched or not, as voc_eval.py does.
/// requires: check_detections(gt, dets).
VocResult evaluate_voc(const Dataset& gt, const DetectionSet& dets, const VocOptions& opts = {});

/// voc_eval.py's voc_ap(rec, prec, use_07_metric) bit for bit (numpy's arange thresholds, p / 11 summed left
/// to right; all-point area summed with numpy's pairwise sum).
double voc_ap(const std::vector<double>& recall, const std::vector<double>& precision, bool use_07_metric);

/// Per-class AP lines and the mAP, e.g. "VOC2007 (11-point, IoU > 0.50)\n  cat    0.8864\n  mAP    0.8864".
std::string format_voc_summary(const VocResult& r, const std::vector<std::string>& class_names,
                               const std::string& title);

}  // namespace detlab
