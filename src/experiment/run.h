// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Runs: train a detector into a folder, evaluate a detector on a split (timing, metrics.json, detections.json).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "eval/metrics.h"
#include "experiment/run_config.h"
#include "pipeline/detector.h"
#include "pipeline/runtime.h"

namespace detlab {

struct TrainRunOptions {
  std::filesystem::path out_dir;  // required: the model folder
  int threads = 0;                // worker threads for per-image work (0 = all cores)
  uint64_t seed = 0;
  std::string device = "cpu";
  bool resume = false;            // continue the training checkpointed in out_dir (TrainContext::resume)
};

struct TrainReport {
  double train_seconds = 0;  // Detector::fit() wall time
  int64_t num_parameters = 0;
  int train_images = 0;
};

/// Trains det on the config's train split and writes out_dir: config.yaml (the config after overrides, first:
/// it claims the folder), the model (Detector::save: detector.json and stage files) and train.json
/// {format_version, name, detector, config_hash, train_seconds, num_parameters, train_images, threads, seed}.
/// The model header is written last, so a failed run never leaves a loadable half-model. InputError, before
/// anything is written, when out_dir's config.yaml has another `detector` or `dataset` than rc's (a folder holds
/// one run); a write that fails (a full disk) is a std::filesystem::filesystem_error naming the file.
TrainReport train_run(const RunConfig& rc, Detector& det, const TrainRunOptions& opts);

/// Builds the config's detector and restores it from a model folder (InputError naming the missing or
/// incompatible file).
std::unique_ptr<Detector> load_trained(const RunConfig& rc, const std::filesystem::path& model_dir);

struct EvalRunOptions {
  std::string split = "test";     // train / val / test (the config's names), another split, or all
  int max_images = -1;            // < 0: the config's eval.max_images
  std::filesystem::path out_dir;  // metrics.json + detections.json; empty: write nothing
  int threads = 0;                // for the metric computation
};

struct EvalReport {
  Evaluation evaluation;                   // metrics (timing included) and the arrays behind them
  int images = 0;
  double ms_per_image = 0;                 // mean wall time of detect()
  double ms_per_image_p90 = 0;
  std::map<std::string, double> stage_ms;  // mean per stage
  std::map<std::string, double> stage_p90_ms;
  /// COCO AP and AP50 per label (coco_class_ap; -1 without ground truth), when the coco protocol ran.
  std::vector<std::array<double, 2>> coco_per_class;
  std::vector<std::string> stage_order;    // stage names in pipeline order (first detect() call's order)
  LibraryThreads threads;                  // the library pools the detections ran with
  std::string text;                        // the printed report (summary, TIDE when the eval section asks)
};

/// Runs det.detect() on every image of the split, one at a time (so times are per-image latencies), with a
/// progress bar; evaluates as the config's eval section says (eval_settings.h); when out_dir is set, writes
/// there the files of report_options() (class_ap.md / .csv, pr/, tide.txt, confusion.csv as enabled),
/// detections.json (COCO results) and, last, metrics.json (timing.ms_per_image, timing.stages = mean ms per
/// stage; extra = {images, ms_per_image_p90, stages_p90, split, detector, threads: {opencv, openblas, torch},
/// coco_per_class: {name: {AP, AP50}}}).
EvalReport evaluate_run(const RunConfig& rc, Detector& det, const EvalRunOptions& opts);

/// "per class (COCO AP / AP50): RBC 0.312 / 0.590, ..." and the timing line, for the commands to print.
std::string format_run_report(const EvalReport& r, const std::vector<std::string>& class_names);

}  // namespace detlab
