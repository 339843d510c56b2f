// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// evaluate_and_report(): the reusable body of `detlab eval`.
#include "eval/report.h"

#include <algorithm>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/pr_curves.h"

namespace detlab {

Evaluation evaluate_and_report(const Dataset& gt, const DetectionSet& dets, const ReportOptions& opts,
                               std::ostream& out) {
  const bool has_voc = std::count(opts.eval.protocols.begin(), opts.eval.protocols.end(), Protocol::kVoc07) +
                           std::count(opts.eval.protocols.begin(), opts.eval.protocols.end(), Protocol::kVoc12) >
                       0;
  if (!opts.pr_dir.empty() && !has_voc)
    throw InputError(opts.pr_dir.string(), "pr", "precision-recall curves need a VOC protocol (voc07 or voc12)");

  Evaluation e = evaluate(gt, dets, opts.eval);
  e.metrics.ms_per_image = opts.ms_per_image;
  e.metrics.stage_ms = opts.stage_ms;
  e.metrics.extra_json = opts.extra_json;

  out << format_summary(e);
  if (opts.print_class_table) out << "\n" << format_class_ap_table(e, TableFormat::kMarkdown);
  if (opts.tide) out << "\n" << format_tide(tide_errors(gt, dets, opts.tide_options));
  out.flush();

  if (!opts.metrics_json.empty()) write_metrics_json(opts.metrics_json, e.metrics);
  if (!opts.table.empty())
    write_file_atomic(opts.table, format_class_ap_table(e, opts.table.extension() == ".csv" ? TableFormat::kCsv
                                                                                             : TableFormat::kMarkdown));
  if (!opts.pr_dir.empty()) write_pr_curves(opts.pr_dir, e.voc12 ? *e.voc12 : *e.voc07, gt.class_names);
  if (!opts.confusion_csv.empty())
    write_file_atomic(opts.confusion_csv,
                      format_confusion_csv(confusion_matrix(gt, dets, opts.confusion), gt.class_names));
  return e;
}

}  // namespace detlab
