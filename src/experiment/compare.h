// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab compare: train (or reuse) and evaluate every entry of a comparison spec with the same harness, then
// write tables, summary.json, manifest.json and the plots.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "experiment/cached_run.h"
#include "experiment/compare_spec.h"

namespace detlab {

struct CompareOptions {
  std::filesystem::path out_dir;  // empty: results/runs/<name> (quick: results/runs/<name>_quick)
  int threads = 0;
  std::string device = "cpu";
  bool retrain = false;           // ignore cached models and evaluations
  bool reuse_stale = false;       // CachedRunOptions::reuse_stale: tables mark such entries
  bool plots = true;              // run the plotting script at the end
  std::vector<std::string> overrides;  // --set for every entry, applied last
  std::string command_line;       // for the manifest
};

/// One entry's outcome over the spec's seeds.
struct EntryResult {
  CompareEntry entry;
  std::vector<uint64_t> seeds;       // seeds that finished, parallel to runs
  std::vector<RunOutcome> runs;
  std::vector<std::string> errors;   // one line per failed seed (or one for a config that did not load)
  bool input_error = false;          // some failure was bad input (a config), not a crash
  std::string resolved_yaml;         // the entry's config after overrides (first seed that loaded)
  std::string config_hash;           // Config::hash() of its detector node
  std::string config_file;
  std::vector<std::string> overrides;
  bool ok() const { return errors.empty() && !runs.empty(); }
};

struct ProposalResult {
  ProposalEntry entry;
  std::filesystem::path file;  // proposals/<slug>.json, relative to the run folder
  std::string error;
};

struct CompareResult {
  std::filesystem::path out_dir;
  int threads = 0;                 // library threads of this invocation (the tables' timing columns)
  std::string device = "cpu";
  std::vector<std::string> class_names;
  std::vector<EntryResult> entries;
  std::vector<ProposalResult> proposals;
  double wall_seconds = 0;
  std::string plot_error;  // non-empty when the plotting script failed
  /// 0: every entry finished; 2: some entry failed on bad input; 1: some entry (or the plots) failed otherwise.
  int exit_code() const;
};

/// Runs the comparison: every entry x seed through run_cached (entries/<slug>/seed_<s>/; a failure is recorded
/// and the next entry runs), the proposal curves (proposals/<slug>.json), a few test images with their ground
/// truth (samples/), then writes table.{md,csv,tex} (one row per entry: COCO AP..APl, AR100, VOC07 mAP,
/// per-class AP50, training seconds, ms per image mean / p90, parameters; means over seeds, with ± std when
/// there are several), per_class.{md,csv,tex}, timing.{md,csv,tex} (per stage, mean / p90), summary.json
/// (everything the plots and notebooks read) and manifest.json; finally the plots (plots/*.png, *.svg).
/// Files are written atomically; a rerun reuses every finished entry (cached_run.h).
CompareResult run_compare(const CompareSpec& spec, const CompareOptions& opts);

/// The main table as Markdown (what `detlab compare` prints at the end).
std::string format_compare_table(const CompareResult& r);

}  // namespace detlab
