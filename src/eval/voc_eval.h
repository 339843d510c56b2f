// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// PASCAL VOC evaluation as py-faster-rcnn's voc_eval.py: per-class AP (11-point or all-point) and mAP.
//
// The rule. A VOC protocol result equals what py-faster-rcnn's voc_eval.py (the devkit's semantics) computes on
// the same annotation XML with the same detections written in the devkit's convention, 1-based inclusive, as
// py-faster-rcnn writes them: a detlab box (x1, y1, x2, y2) is the devkit line (x1 + 1, y1 + 1, x2, y2).
// Why no "+1" appears here by default: read_voc turns the XML's inclusive pixels (xmin, ymin, xmax, ymax) into
// the continuous box (xmin - 1, ymin - 1, xmax, ymax), and on continuous boxes the devkit's +1 widths are the
// plain widths (xmax - (xmin - 1) = xmax - xmin + 1), so its IoU is the plain IoU. Adding the +1 again would
// count one pixel twice. The rule holds whatever file the ground truth came from (VOC folder, COCO JSON or
// YOLO folder written by `detlab dataset convert`, which all keep the continuous box) and whatever the
// detections came from (a detlab detector, a COCO results file, whose [x, y, w, h] is continuous as in
// pycocotools). Tested to 1e-9 against an independent transcription of voc_eval.py on a real VOC folder:
// tests/data/voc2012-sample/devkit/.
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
  /// The devkit's "+1" pixel convention: widths, heights and intersections are x2 - x1 + 1, applied to the box
  /// coordinates as they are. Off by default, because detlab's boxes are continuous (core/types.h): see the rule
  /// at the top of this file. On only for boxes that are themselves in the devkit's inclusive pixel numbers,
  /// e.g. a COCO JSON whose bbox is [xmin, ymin, xmax - xmin, ymax - ymin] of the XML and detections written in
  /// the same numbering (`--plus-one`, `eval.voc.plus_one: true`).
  bool plus_one = false;
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

/// voc_eval.py's overlap of a detection d with a ground-truth box g, in double; plus_one adds the devkit's 1 to
/// every width, height and intersection (VocOptions::plus_one).
double voc_iou(const Box& d, const Box& g, bool plus_one = false);

/// voc_eval.py's voc_ap(rec, prec, use_07_metric) bit for bit (numpy's arange thresholds, p / 11 summed left
/// to right; all-point area summed with numpy's pairwise sum).
double voc_ap(const std::vector<double>& recall, const std::vector<double>& precision, bool use_07_metric);

/// Per-class AP lines and the mAP, e.g. "VOC2007 (11-point, IoU > 0.50)\n  cat    0.8864\n  mAP    0.8864".
std::string format_voc_summary(const VocResult& r, const std::vector<std::string>& class_names,
                               const std::string& title);

}  // namespace detlab
