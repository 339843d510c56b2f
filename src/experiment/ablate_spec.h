// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Ablation grids: axes of config overrides x seeds, grid points, deterministic shards.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "experiment/claims.h"

namespace detlab {

/// One axis: a dotted config key and the YAML values it takes ("0.3", "@experiments/stages/rpn.yaml"), or the
/// spec's `rows:` (key "row"): named settings that each change several keys, for a paper's table whose rows
/// are not a cartesian grid (values are the row labels, row_sets[i] the overrides of row i).
struct GridAxis {
  std::string key;
  std::vector<std::string> values;
  std::vector<std::vector<std::string>> row_sets;  // non-empty for the `rows:` axis only
  std::vector<std::string> row_bases;              // a row's own base config ("" = the spec's base)
  bool is_rows() const { return !row_sets.empty(); }
  /// The overrides that value i stands for: "key=value", or row i's list.
  std::vector<std::string> overrides_of(size_t i) const;
  /// Short display names of the values: the text itself, the file stem for "@file" values, a row's label.
  std::vector<std::string> labels() const;
  /// The column name: the last key component, or the whole key when another axis ends the same way.
  std::string column;
};

/// An ablation: a base experiment config, overrides for every point, axes, seeds (experiments/README.md).
/// File format (experiments/ablations/*.yaml): name, base, set, rows [{label, base, set: [overrides]}],
/// grid {key: [values]}, seeds (count or list), eval_only (keys that do not need retraining, e.g.
/// detector.postprocess), description, paper, claims, quick {set, seeds, values}.
struct AblationSpec {
  std::filesystem::path file;       // the spec file, or the base config when the grid came from the CLI
  std::string name;                 // results/runs/<name>
  std::string description;
  std::filesystem::path base;       // experiment config every point starts from
  std::vector<std::string> set;     // overrides for every point (before the axis values)
  std::vector<GridAxis> axes;
  std::vector<uint64_t> seeds = {0};
  std::vector<std::string> eval_only;
  std::string resolved_yaml;        // the spec file after _base_ (empty for a plain base config)
  PaperColumn paper;                // the published numbers beside ours (experiment/claims.h)
  std::vector<Claim> claims;        // the paper's findings, judged on our seeds; rows by setting label
  bool quick = false;               // the quick preset was applied (name ends in _quick)
  std::vector<std::string> quick_set;  // its quick.set: applied after each point's own values
};

/// Reads `file`: an ablation spec (has a `base` key) or an experiment config (the base itself; its name is
/// then "<config stem>_ablation"). InputError naming the file and key for unknown keys, an empty grid
/// value list, a missing base, a row without label or set, duplicate row labels.
/// quick = true applies the spec's quick preset, the smoke test that keeps a spec from rotting: the first
/// `quick.values` values of each axis (default 1), `quick.seeds` seeds (default 1), quick.set applied after
/// each point's values (so that a row's schedule is shortened too), and the name gets "_quick" (its own
/// output folder).
AblationSpec load_ablation_spec(const std::filesystem::path& file, bool quick = false);

/// Parses "key=v1,v2,..." (commas inside [], {} or quotes do not split: key=[1,2],[3,4] has two values).
/// InputError (field --grid) for a missing '=' or an empty value.
GridAxis parse_grid_arg(const std::string& arg);

/// Adds an axis, replacing an existing one with the same key; recomputes the column names.
void add_axis(AblationSpec& spec, GridAxis axis);

/// One run of the grid.
struct GridPoint {
  int index = 0;                    // position in grid order (axes in order, first axis slowest; seeds fastest)
  std::vector<std::string> values;  // one per axis
  std::vector<size_t> value_index;  // position of each value in its axis
  uint64_t seed = 0;
  std::string setting;              // folder-safe name of the axis values ("nms_iou=0.5")
  std::string slug;                 // setting + "_seed<s>" + a hash of the overrides: the point's folder
  std::string model_group;          // points with the same group share one trained model (eval-only axes)
  std::vector<std::string> overrides() const;  // "key=value" per axis (a row: its list)
  /// The experiment config this point starts from: its row's `base`, else the spec's.
  std::filesystem::path base() const;
  /// Everything a run of this point applies to the base config, in order: spec set, the point's values, the
  /// quick preset's set, then `extra` (the command line's --set).
  std::vector<std::string> all_overrides(const std::vector<std::string>& extra) const;
  const AblationSpec* spec = nullptr;
};

/// Every point of the grid: the cartesian product of the axes (one point when there are none) x seeds.
std::vector<GridPoint> grid_points(const AblationSpec& spec);

/// The points of shard i of n (0 <= i < n): whole model groups dealt round-robin in grid order, so that a
/// trained model is never shared across shards. requires: 0 <= i < n.
std::vector<GridPoint> shard_points(const std::vector<GridPoint>& points, int i, int n);

/// Parses "i/n" (0-based i; e.g. $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT); InputError otherwise.
std::pair<int, int> parse_shard(const std::string& text);

}  // namespace detlab
