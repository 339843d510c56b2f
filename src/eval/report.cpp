// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// evaluate_and_report(): the reusable body of `detlab eval`.
#include "eval/report.h"

#include <algorithm>
#include <optional>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/pr_curves.h"

namespace detlab {

namespace {

ErrorBreakdownOptions with_similar_labels(ErrorBreakdownOptions o, const std::vector<std::vector<std::string>>& groups,
                                          const std::vector<std::string>& class_names) {
  for (const std::vector<std::string>& names : groups) {
    std::vector<int> labels;
    for (const std::string& n : names) {
      const auto it = std::find(class_names.begin(), class_names.end(), n);
      if (it == class_names.end())
        throw InputError("eval.errors.similar", "", "'" + n + "' is not a class of the data set");
      labels.push_back(static_cast<int>(it - class_names.begin()));
    }
    o.similar.push_back(labels);
  }
  return o;
}

}  // namespace

Report evaluate_and_report(const Dataset& gt, const DetectionSet& dets, const ReportOptions& opts) {
  DETLAB_REQUIRE(opts.tide || opts.tide_file.empty(), "a TIDE file needs tide = true");
  DETLAB_REQUIRE(opts.errors || (opts.errors_file.empty() && opts.errors_csv.empty()), "error files need errors");
  Report r;
  Evaluation& e = r.evaluation;
  e = evaluate(gt, dets, opts.eval);
  e.metrics.ms_per_image = opts.ms_per_image;
  e.metrics.stage_ms = opts.stage_ms;
  e.metrics.extra_json = opts.extra_json;

  r.text = format_summary(e);
  if (opts.print_class_table) r.text += "\n" + format_class_ap_table(e, TableFormat::kMarkdown);
  std::string tide;
  if (opts.tide) {
    tide = format_tide(tide_errors(gt, dets, opts.tide_options));
    r.text += "\n" + tide;
  }

  std::optional<ErrorBreakdown> errors;
  if (opts.errors) {
    errors = error_breakdown(gt, dets, with_similar_labels(opts.error_options, opts.error_similar, gt.class_names));
    r.text += "\n" + format_error_breakdown(*errors, gt.class_names);
  }

  if (!opts.metrics_json.empty()) write_metrics_json(opts.metrics_json, e.metrics);
  if (!opts.table.empty())
    write_file_atomic(opts.table, format_class_ap_table(e, opts.table.extension() == ".csv" ? TableFormat::kCsv
                                                                                             : TableFormat::kMarkdown));
  if (!opts.table_csv.empty()) write_file_atomic(opts.table_csv, format_class_ap_table(e, TableFormat::kCsv));
  if (!opts.pr_dir.empty()) {
    if (e.voc12 || e.voc07) write_pr_curves(opts.pr_dir, e.voc12 ? *e.voc12 : *e.voc07, gt.class_names);
    if (e.coco) write_coco_pr_curves(opts.pr_dir, *e.coco, gt.class_names);
  }
  if (!opts.confusion_csv.empty())
    write_file_atomic(opts.confusion_csv,
                      format_confusion_csv(confusion_matrix(gt, dets, opts.confusion), gt.class_names));
  if (!opts.tide_file.empty()) write_file_atomic(opts.tide_file, tide);
  if (!opts.errors_file.empty()) write_file_atomic(opts.errors_file, format_error_breakdown(*errors, gt.class_names));
  if (!opts.errors_csv.empty())
    write_file_atomic(opts.errors_csv, format_error_breakdown_csv(*errors, gt.class_names));
  return r;
}

}  // namespace detlab
