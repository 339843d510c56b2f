// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The evaluation entry point shared by every detector and `detlab compare`: evaluate() -> Metrics, metrics.json.
#pragma once

#include <array>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/coco_eval.h"
#include "eval/detections.h"
#include "eval/voc_eval.h"

namespace detlab {

enum class Protocol { kCoco, kVoc07, kVoc12 };

/// "coco", "voc07", "voc12".
const char* protocol_name(Protocol p);
/// Parses a comma-separated list of protocol names, or "all"; InputError naming `field` otherwise.
std::vector<Protocol> parse_protocols(const std::string& text, const std::string& field = "protocol");

struct EvalOptions {
  std::vector<Protocol> protocols = {Protocol::kCoco, Protocol::kVoc07, Protocol::kVoc12};
  CocoEvalOptions coco;
  /// IoU threshold and pixel convention of both VOC protocols (use_07_metric is set per protocol).
  VocOptions voc;
  int threads = 0;  ///< overrides coco.threads and voc.threads when > 0
};

/// Headline numbers of one VOC protocol.
struct VocMetrics {
  double map = 0;                 ///< NaN when no class has ground truth
  std::vector<double> per_class;  ///< AP per label; NaN for classes without ground truth
};

/// Everything metrics.json holds. Sections that were not computed are empty (written as null).
struct Metrics {
  std::vector<std::string> class_names;     ///< per label (keys of per_class)
  std::optional<std::array<double, 12>> coco;  ///< in coco_stat_names() order
  std::optional<VocMetrics> voc07, voc12;
  /// Filled by the caller that timed the detector; NaN / empty when unknown.
  double ms_per_image = std::numeric_limits<double>::quiet_NaN();
  std::map<std::string, double> stage_ms;  ///< timing.stages: stage name -> ms per image
  /// Free-form section written under "extra": a JSON object as text (validated when written); empty: none.
  std::string extra_json;

  /// COCO stat by its metrics.json key ("AP", "AP50", ..., "ARl"); throws std::invalid_argument for others.
  double coco_stat(const std::string& key) const;
};

/// Full results of one evaluation: the headline Metrics and the arrays behind them, for the analyses.
struct Evaluation {
  Metrics metrics;
  std::optional<CocoEvalResult> coco;
  std::optional<VocResult> voc07, voc12;
};

/// Evaluates dets against gt with each requested protocol (COCO: pycocotools semantics; VOC07: 11-point AP;
/// VOC12: all-point AP). An empty detection set gives AP 0 (COCO: 0 where there is ground truth).
/// requires: check_detections(gt, dets).
Evaluation evaluate(const Dataset& gt, const DetectionSet& dets, const EvalOptions& opts = {});

/// The text `detlab eval` prints: pycocotools' 12-line summary and the VOC per-class tables.
std::string format_summary(const Evaluation& e);

/// Writes metrics.json atomically: {"version", "coco": {AP..ARl}, "voc07": {"mAP", "per_class": {name: AP}},
/// "voc12": {...}, "timing": {"ms_per_image", "stages"}, "extra"?}. NaN is written as null; sections not
/// computed are null. InputError when extra_json is not a JSON object.
void write_metrics_json(const std::filesystem::path& file, const Metrics& m);
/// Reads a metrics.json written by write_metrics_json; InputError naming the file and key for an unknown
/// version, a missing key or a mistyped value.
Metrics read_metrics_json(const std::filesystem::path& file);

/// metrics.json format version written by this build.
constexpr int kMetricsVersion = 1;

}  // namespace detlab
