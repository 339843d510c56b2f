// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Per-class outputs: the AP table (markdown / CSV) and precision-recall points per class (pr/<class>.csv).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "eval/metrics.h"

namespace detlab {

enum class TableFormat { kMarkdown, kCsv };

/// One row per class with the columns the evaluation has: gt count, COCO AP and AP50 (coco_class_ap), VOC07
/// AP, VOC12 AP; then a "mean" row (COCO columns: mean over classes with ground truth, as the COCO stats).
/// Values are printed with 4 decimals; "n/a" (markdown) or an empty cell (CSV) where a class has no gt.
std::string format_class_ap_table(const Evaluation& e, TableFormat format);

/// A class name made safe as a file name: [A-Za-z0-9._-] kept, anything else '_' ("traffic light" ->
/// "traffic_light"); "class_<k>" for an empty name.
std::string class_file_stem(const std::string& name, int label);

/// Writes dir/<class>.csv for every class, each atomically, with the header "rank,score,recall,precision,
/// interpolated_precision": one row per ranked detection of r (interpolated = the monotone envelope, max
/// precision at any rank >= this one). Classes without ground truth get the header only.
/// Returns the files written, in label order.
std::vector<std::filesystem::path> write_pr_curves(const std::filesystem::path& dir, const VocResult& r,
                                                   const std::vector<std::string>& class_names);

/// The COCO protocol's precision-recall curves: dir/coco_iou<t>.csv for each IoU threshold t of r (e.g.
/// coco_iou0.50.csv, coco_iou0.75.csv), each atomically, with the header "class,recall,precision,score": per
/// class (label order) one row per recall threshold, the interpolated precision pycocotools' accumulate()
/// stores at it (area "all", the last max_dets) and the score at which it is reached. Classes without ground
/// truth have no rows. Returns the files written, by threshold.
std::vector<std::filesystem::path> write_coco_pr_curves(const std::filesystem::path& dir, const CocoEvalResult& r,
                                                        const std::vector<std::string>& class_names);

}  // namespace detlab
