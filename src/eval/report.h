// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// One evaluation end to end: evaluate, the printed summary, metrics.json and the analysis files.
#pragma once

#include <filesystem>
#include <limits>
#include <map>
#include <string>

#include "eval/confusion.h"
#include "eval/error_breakdown.h"
#include "eval/metrics.h"
#include "eval/tide.h"

namespace detlab {

/// What evaluate_and_report() computes and writes besides the metrics. Empty paths are not written.
struct ReportOptions {
  EvalOptions eval;
  std::filesystem::path metrics_json;  ///< metrics.json (keys: src/README.md)
  /// pr/<class>.csv from the VOC12 (else VOC07) matching, and coco_iou<t>.csv per COCO IoU threshold
  std::filesystem::path pr_dir;
  std::filesystem::path table;         ///< per-class AP table; ".csv" gives CSV, anything else markdown
  std::filesystem::path table_csv;     ///< a second copy of the table as CSV (run folders keep both)
  std::filesystem::path confusion_csv; ///< confusion matrix at `confusion`'s operating point
  ConfusionOptions confusion;
  bool tide = false;                   ///< compute (and print) the TIDE error breakdown
  std::filesystem::path tide_file;     ///< also write it here (needs tide)
  TideOptions tide_options;
  bool errors = false;                 ///< compute (and print) the error breakdown of YOLO v1's figure 4
  std::filesystem::path errors_file;   ///< also write it here as markdown (needs errors)
  std::filesystem::path errors_csv;    ///< and here as CSV (needs errors)
  ErrorBreakdownOptions error_options;
  /// Groups of similar classes by name, resolved against the ground truth's classes (InputError when unknown).
  std::vector<std::vector<std::string>> error_similar;
  bool print_class_table = false;      ///< also print the per-class AP table (markdown)
  /// Copied into metrics.json (timing is measured by the caller that ran the detector).
  double ms_per_image = std::numeric_limits<double>::quiet_NaN();
  std::map<std::string, double> stage_ms;
  std::string extra_json;
};

struct Report {
  Evaluation evaluation;
  std::string text;  ///< what `detlab eval` prints: the summary, then the class table / TIDE when asked
};

/// Evaluates dets against gt and writes the requested files, each atomically. Used by `detlab eval` for
/// external result files and by the trained-detector path (evaluate_run) alike, so both give the same files.
Report evaluate_and_report(const Dataset& gt, const DetectionSet& dets, const ReportOptions& opts);

}  // namespace detlab
