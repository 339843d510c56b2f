// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// TIDE error breakdown (Bolya et al. 2020): the AP gained by fixing each error type, as tidecv computes it.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "data/dataset.h"
#include "eval/detections.h"

namespace detlab {

struct TideOptions {
  double pos_threshold = 0.5;         ///< t_f: foreground IoU (tidecv default)
  double background_threshold = 0.1;  ///< t_b: below it a false positive is on background (tidecv default)
  int max_dets = 100;                 ///< per image over all classes, by score (tidecv's Data.max_dets)
};

/// Main error types in tidecv's order.
enum class TideError { kCls, kLoc, kBoth, kDupe, kBkg, kMiss };
/// "Cls", "Loc", "Both", "Dupe", "Bkg", "Miss" (tidecv's short names).
const std::array<const char*, 6>& tide_error_names();

struct TideResult {
  TideOptions options;
  /// mAP at pos_threshold with tidecv's AP (101 recall points, no eps; classes with detections but no gt count
  /// as 0), as a fraction (tidecv prints it x100).
  double ap = 0;
  std::array<double, 6> delta_ap{};  ///< AP gained by fixing all errors of each type, clamped at 0
  std::array<int64_t, 6> counts{};   ///< errors of each type
  double delta_ap_false_pos = 0;     ///< special error: every false positive scored 0
  double delta_ap_false_neg = 0;     ///< special error: every missed gt removed
};

/// tidecv's TIDERun for boxes. Per image: detections by descending score (stable), first max_dets; each takes
/// the unused gt of its class with the highest IoU if >= pos_threshold. Crowd and difficult gt are ignore
/// regions: an unmatched detection of their class covering one by more than pos_threshold (intersection /
/// detection area) is dropped. Every other unmatched detection gets the first matching error of: Loc (IoU
/// with a gt of its class in [t_b, t_f]), Cls (IoU >= t_f with a gt of another class), Dupe (IoU >= t_f with
/// a used gt of its class), Bkg (max IoU <= t_b), else Both; a gt nobody matched and no Cls / Loc error could
/// claim is Miss. Fixing Cls / Loc turns the highest-scoring such detection per gt into a true positive
/// (Cls: relabelled) and drops the others; fixing Both / Dupe / Bkg drops them; fixing Miss removes the gt.
/// requires: check_detections(gt, dets).
TideResult tide_errors(const Dataset& gt, const DetectionSet& dets, const TideOptions& opts = {});

/// Two tables like tidecv's summary: main errors and special errors, dAP x100.
std::string format_tide(const TideResult& r);

}  // namespace detlab
