// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The comparison's tables (main, per class, timing) and summary.json, built from a CompareResult.
#pragma once

#include <string>

#include "experiment/compare.h"
#include "experiment/table.h"

namespace detlab {

/// One row per entry: Detector, AP, AP50, AP75, APs, APm, APl, AR100 (COCO), VOC07 mAP, AP50 per class,
/// train s, ms/img (mean), ms/img p90, params; a final "status" column when some entry failed (its metric
/// cells are empty). With several seeds: the mean, and "± std" in Markdown / LaTeX.
Table compare_main_table(const CompareResult& r);
/// One row per entry: AP, AP50 (COCO) and VOC07 AP of every class.
Table compare_class_table(const CompareResult& r);
/// One row per (entry, stage) in pipeline order plus a "total" row: mean and p90 ms per image.
Table compare_timing_table(const CompareResult& r);
/// summary.json: {format_version, name, quick, class_names, entries: [{label, slug, index, config, status,
/// error, runs: [{seed, dir, trained, evaluated}], metrics: {AP.., VOC07, VOC12, ms_per_image,
/// ms_per_image_p90, train_seconds, num_parameters}, std: {...}, per_class: {class: {AP, AP50, VOC07}},
/// stages: [[name, mean, p90], ...]}], proposals: [{label, file, error}], samples: "samples/ground_truth.json"}.
std::string compare_summary_json(const CompareResult& r, const std::string& name, bool quick);

}  // namespace detlab
