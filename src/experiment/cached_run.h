// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// A train + evaluate run that reuses a finished model folder and evaluation with the same config hash.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "eval/metrics.h"
#include "experiment/run_config.h"

namespace detlab {

/// Cache keys of a run (16 hex digits each; the parts behind them are provenance.h's RunInputs):
///   train: the resolved `dataset` node and the `detector` node with every eval-only key set to null; the
///          content of the data it reads; the seed; the library thread count and device; the code of the
///          detector's components. Runs with the same train key share one trained model.
///   eval:  the train key's parts plus the full detector node, the `eval` node, the split and the code of the
///          harness that detects and scores.
struct RunKeys {
  std::string train, eval;
};

/// requires: each eval-only key is a dotted path that Config::set accepts on rc.root (InputError otherwise).
/// threads: the library threads the run uses (0: resolve_thread_count(0)).
RunKeys run_keys(const RunConfig& rc, uint64_t seed, const std::vector<std::string>& eval_only = {},
                 const std::string& split = "test", int threads = 0, const std::string& device = "cpu");

struct CachedRunOptions {
  std::filesystem::path dir;        // required: run.json, metrics.json, detections.json, pr/, class_ap.{md,csv}
  std::filesystem::path model_dir;  // the model folder; empty: dir (several runs may share one model folder)
  uint64_t seed = 0;
  int threads = 0;                  // library threads the run uses, part of the keys (0: every hardware thread)
  std::string device = "cpu";
  bool retrain = false;             // ignore a cached model (and therefore the cached evaluation)
  /// Reuse a finished model / evaluation of the same config and seed even when its code, data, threads or
  /// device differ (the outcome says so: RunOutcome::stale), instead of redoing it.
  bool reuse_stale = false;
  /// Keys that only change inference (post-processing, eval settings): not part of the train key, so runs
  /// that differ only there reuse one model. detector.postprocess is read by detect() alone in the staged
  /// detector; list only keys with that property.
  std::vector<std::string> eval_only;
  std::string split = "test";
};

/// Per-class numbers of one evaluation (NaN where the class has no ground truth or the protocol was off).
struct ClassResult {
  std::string name;
  int64_t num_gt = -1;
  double ap = std::numeric_limits<double>::quiet_NaN();    // COCO AP@[.5:.95]
  double ap50 = std::numeric_limits<double>::quiet_NaN();  // COCO AP@.5
  double voc07 = std::numeric_limits<double>::quiet_NaN();
  double voc12 = std::numeric_limits<double>::quiet_NaN();
};

/// What a finished run reports (from this process or read back from its folder).
struct RunOutcome {
  RunKeys keys;
  bool trained = false;    // the model was trained by this call (false: reused)
  bool evaluated = false;  // the evaluation ran in this call (false: reused)
  double train_seconds = std::numeric_limits<double>::quiet_NaN();
  /// Process CPU seconds (user + system, all threads) spent training / evaluating in the call that did it:
  /// on a shared machine, CPU time / threads estimates the wall time the run would take alone.
  double train_cpu_seconds = std::numeric_limits<double>::quiet_NaN();
  double eval_cpu_seconds = std::numeric_limits<double>::quiet_NaN();
  int64_t num_parameters = 0;
  int train_images = 0;
  Metrics metrics;  // metrics.json (timing included)
  int images = 0;
  double ms_per_image_p90 = std::numeric_limits<double>::quiet_NaN();
  std::vector<std::pair<std::string, double>> stage_ms, stage_p90_ms;  // pipeline order
  std::vector<ClassResult> classes;
  std::filesystem::path dir, model_dir;
  /// Why the model was retrained / the evaluation redone in this call, when a previous one was there:
  /// describe_changes() lines ("code: nn/heads/rpn.cpp (changed)", "threads 1 -> 2", ...).
  std::vector<std::string> retrained_because, reevaluated_because;
  /// Reused on purpose (reuse_stale) although its inputs differ: what differs. Tables mark such entries.
  std::vector<std::string> stale;
  /// The entry's own manifest (dir/manifest.json): keys, inputs and, for the training and the evaluation
  /// each, when, how long, git commit and dirty flag (at run time and at build time), machine, threads,
  /// device and library versions. JSON text.
  std::string manifest;
};

/// Trains (unless opts.model_dir holds a finished model with the same train key) and evaluates (unless
/// opts.dir holds an evaluation with the same eval key) the config's detector; writes the run folder:
/// the files of evaluate_run (metrics.json, detections.json, class_ap.md / .csv, pr/, ...), run.json
/// {format_version, name, seed, keys, inputs, model_dir, train, eval, classes} and manifest.json (the
/// provenance, RunOutcome::manifest). A model folder is finished when model_key.json (written after
/// Detector::save, with the train inputs and the training's provenance) has the train key; a stale model
/// folder is emptied before training, so a failed training never leaves a reusable model. Folders of an older
/// format are stale. Errors propagate (InputError for bad configs); run.json is written last, so a failed
/// evaluation is redone.
RunOutcome run_cached(const RunConfig& rc, const CachedRunOptions& opts);

/// One line for the log: "trained (no model yet), evaluated", "reused the model and the evaluation",
/// "retrained (code: nn/heads/rpn.cpp (changed)), evaluated", "reused although stale (threads 1 -> 2)".
std::string describe_outcome(const RunOutcome& o);

/// The outcome stored in a run folder by run_cached (run.json + metrics.json); InputError naming the file
/// when missing or of an unknown version.
RunOutcome read_run_outcome(const std::filesystem::path& dir);

/// Whether dir holds a finished evaluation with this eval key (and its model is still in place).
bool run_is_cached(const std::filesystem::path& dir, const RunKeys& keys);

}  // namespace detlab
