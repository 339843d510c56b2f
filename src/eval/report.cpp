// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// evaluate_and_report(): the reusable body of `detlab eval`.
#include "eval/report.h"

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/pr_curves.h"

namespace detlab {

Report evaluate_and_report(const Dataset& gt, const DetectionSet& dets, const ReportOptions& opts) {
  DETLAB_REQUIRE(opts.tide || opts.tide_file.empty(), "a TIDE file needs tide = true");
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
  return r;
}

}  // namespace detlab
