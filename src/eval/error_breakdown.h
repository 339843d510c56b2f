// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The error breakdown of YOLO v1's figure 4 (after Hoiem et al., ECCV 2012): what each class's top detections are.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/detections.h"

namespace detlab {

struct ErrorBreakdownOptions {
  double correct_iou = 0.5;  ///< correct: the right class and IoU > this with an object not yet detected
  double min_overlap = 0.1;  ///< localisation / similar / other: IoU > this; background: no object above it
  /// Groups of similar classes by label (VOC: animals, vehicles, furniture); a class in no group has none.
  std::vector<std::vector<int>> similar;
  /// How many detections of each class to classify: 0 = as many as the class has objects (the paper's N).
  int top = 0;
  bool plus_one = false;  ///< the devkit's "+1" pixel convention, as VocOptions::plus_one
};

/// The categories in the paper's order.
enum class ErrorKind { kCorrect, kLocalization, kSimilar, kOther, kBackground };
/// "correct", "localization", "similar", "other", "background".
const std::array<const char*, 5>& error_kind_names();

struct ClassErrorBreakdown {
  int64_t num_gt = 0;                ///< non-difficult, non-crowd objects of the class (N)
  std::array<int64_t, 5> counts{};   ///< the top detections by kind
  int64_t total() const;
  /// counts[k] / total(), 0 when there are no detections.
  double fraction(ErrorKind k) const;
};

struct ErrorBreakdown {
  ErrorBreakdownOptions options;
  std::vector<ClassErrorBreakdown> classes;  ///< per label
  ClassErrorBreakdown all;                   ///< the classes' counts summed (num_gt summed too)
};

/// For each class c, its detections by descending score (ties: image order, then input order, as evaluate_voc)
/// are classified in turn until `top` (default N, the number of non-difficult objects of c) are counted:
///   correct       IoU > correct_iou with the best-overlapping object of c, which no earlier detection took;
///   localization  the best object of c is above correct_iou but already taken (a duplicate, as Hoiem et al.
///                 count them), or the best IoU with an object of c is in (min_overlap, correct_iou];
///   similar       otherwise, IoU > min_overlap with an object of a class similar to c;
///   other         otherwise, IoU > min_overlap with an object of any other class;
///   background    no object above min_overlap.
/// A detection whose best object of c is difficult or a crowd region with IoU > correct_iou is ignored, as the
/// VOC metric ignores it (not counted, not among the top). IoU is voc_eval.py's (voc_eval.h's pixel rule).
/// requires: check_detections(gt, dets); labels in `similar` in [0, num_classes) (std::invalid_argument).
ErrorBreakdown error_breakdown(const Dataset& gt, const DetectionSet& dets, const ErrorBreakdownOptions& opts = {});

/// A table of percentages per class and over all classes (markdown), with N and the counts behind them.
std::string format_error_breakdown(const ErrorBreakdown& b, const std::vector<std::string>& class_names);
/// The same as CSV: class,num_gt,detections,correct,localization,similar,other,background (counts).
std::string format_error_breakdown_csv(const ErrorBreakdown& b, const std::vector<std::string>& class_names);

}  // namespace detlab
