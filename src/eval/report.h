// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// One evaluation run end to end: evaluate, print the summary, write metrics.json and the analysis files.
#pragma once

#include <filesystem>
#include <limits>
#include <map>
#include <ostream>
#include <string>

#include "eval/confusion.h"
#include "eval/metrics.h"
#include "eval/tide.h"

namespace detlab {

/// What evaluate_and_report() produces besides the printed summary. Empty paths are not written.
struct ReportOptions {
  EvalOptions eval;
  std::filesystem::path metrics_json;  ///< metrics.json (DESIGN.md keys)
  std::filesystem::path pr_dir;        ///< pr/<class>.csv from the VOC12 (else VOC07) matching
  std::filesystem::path table;         ///< per-class AP table; ".csv" gives CSV, anything else markdown
  std::filesystem::path confusion_csv; ///< confusion matrix at `confusion`'s operating point
  ConfusionOptions confusion;
  bool tide = false;                   ///< print the TIDE error breakdown
  TideOptions tide_options;
  bool print_class_table = false;      ///< also print the per-class AP table (markdown)
  /// Copied into metrics.json (timing is measured by the caller that ran the detector).
  double ms_per_image = std::numeric_limits<double>::quiet_NaN();
  std::map<std::string, double> stage_ms;
  std::string extra_json;
};

/// Evaluates dets against gt, prints the summary (format_summary, then TIDE / the table when asked) to out,
/// and writes the requested files, each atomically. Used by `detlab eval` for external result files and by
/// the trained-detector path alike. InputError for bad inputs (e.g. pr_dir without a VOC protocol).
Evaluation evaluate_and_report(const Dataset& gt, const DetectionSet& dets, const ReportOptions& opts,
                               std::ostream& out);

}  // namespace detlab
