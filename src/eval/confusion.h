// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Confusion matrix of a detector at one operating point (score threshold, IoU threshold), with background.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/detections.h"

namespace detlab {

struct ConfusionOptions {
  float score_threshold = 0.5f;  ///< detections scoring below it are dropped
  double iou_threshold = 0.5;    ///< a detection and a gt box correspond when IoU >= this
};

/// (K+1) x (K+1) counts; row = ground-truth class, column = predicted class, index K = background.
/// (k, j): a gt of class k taken by a detection labelled j (diagonal: correct); (K, j): a detection of class
/// j on no gt (false positive on background); (k, K): a gt of class k that no detection took (missed).
/// (K, K) is always 0.
struct ConfusionMatrix {
  int num_classes = 0;
  std::vector<int64_t> counts;  ///< row-major (K+1) x (K+1)
  int64_t at(int gt_label, int pred_label) const {
    return counts[static_cast<size_t>(gt_label) * (num_classes + 1) + pred_label];
  }
};

/// Per image, detections at or above the score threshold are taken by descending score (stable); each takes
/// the untaken, non-ignored gt box of IoU >= iou_threshold: one of its own class if any (highest IoU), else
/// the one of highest IoU of another class. A detection taking nothing but overlapping an ignored gt
/// (difficult, or crowd with IoU = intersection / detection area) by the threshold is not counted; any other
/// is background. Ignored gt are never counted as missed. IoU in double, continuous coordinates (no "+1").
/// requires: check_detections(gt, dets).
ConfusionMatrix confusion_matrix(const Dataset& gt, const DetectionSet& dets, const ConfusionOptions& opts = {});

/// CSV with a header row "gt\\pred,<class...>,background" and one row per gt class plus "background".
std::string format_confusion_csv(const ConfusionMatrix& m, const std::vector<std::string>& class_names);

}  // namespace detlab
