// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The `eval:` section of an experiment config, which `detlab eval` flags also set: protocols and their
// options, the analyses, and the files one evaluation writes into a run folder.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "eval/report.h"

namespace detlab {

/// Defaults are the reference tools' (pycocotools' COCOeval params, voc_eval.py at IoU 0.5).
struct EvalSettings {
  /// protocols; coco.{iou_thresholds, max_dets, area_ranges}; voc.{iou_threshold, plus_one}
  EvalOptions options;
  int max_images = 0;     ///< the first N images of the split (0 = all)
  bool pr_curves = true;  ///< pr/<class>.csv (VOC matching) and pr/coco_iou<t>.csv (COCO)
  bool tide = false;      ///< tide.txt: the TIDE error breakdown (Bolya et al. 2020)
  bool confusion = false; ///< confusion.csv at confusion_options' operating point
  ConfusionOptions confusion_options;
  bool errors = false;    ///< errors.md / errors.csv: YOLO v1's error breakdown (eval/error_breakdown.h)
  ErrorBreakdownOptions error_options;
  std::vector<std::vector<std::string>> error_similar;  ///< groups of similar classes, by name
};

/// Parses an `eval` map (experiments/README.md, "Evaluation"):
///   protocols: [coco, voc07, voc12] | all      max_images: N
///   coco: {iou_thresholds: [...], max_dets: [1, 10, 100], area_ranges: [[all, 0, 1e10], [small, 0, 1024], ...]}
///   voc: {iou: 0.5, plus_one: false}
///   pr_curves: true      tide: false      confusion: false | true | {score: 0.5, iou: 0.5}
///   errors: false | true | {top: 0, iou: 0.5, min_overlap: 0.1, similar: [[cat, dog], [car, bus]]}
/// InputError naming the file and dotted key for unknown keys and values outside their domain (thresholds in
/// (0, 1) and ascending, max_dets positive and ascending, area ranges with min <= max and distinct labels).
EvalSettings parse_eval_settings(const Config& node);

/// The ReportOptions that write one evaluation's files into dir: metrics.json, class_ap.md / class_ap.csv,
/// pr/ (when pr_curves), tide.txt (when tide), confusion.csv (when confusion), errors.md / errors.csv (when
/// errors). An empty dir: no files.
ReportOptions report_options(const EvalSettings& s, const std::filesystem::path& dir);

}  // namespace detlab
