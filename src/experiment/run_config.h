// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Experiment configs (experiments/README.md): load YAML + --set overrides, build the data set and detector.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "data/dataset.h"
#include "experiment/eval_settings.h"
#include "pipeline/detector.h"

namespace detlab {

/// One experiment: top-level keys `name`, `dataset`, `detector`, `eval` (experiments/README.md).
/// Paths inside configs (dataset.path, proposal files, ...) are relative to the current directory: run
/// detlab from the repository root.
struct RunConfig {
  Config root;                 // after _base_ and --set overrides
  std::filesystem::path file;  // the YAML file it came from
  std::string name;            // `name`, else the file stem
  Dataset dataset;             // every image, with named splits
  std::string train_split = "train", val_split = "val", test_split = "test";
  EvalSettings eval;           // the `eval` section (eval_settings.h)
};

/// Reads the file, applies the overrides ("a.b=value"), reads or generates the data set and parses `eval`.
/// The detector node is only validated when built (build_detector). InputError naming the file and the
/// dotted key for every problem: unknown top-level keys, a missing `dataset` or `detector`, unknown keys in
/// `dataset` / `eval`, an unreadable data set, split names the data set does not have.
RunConfig load_run_config(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});

/// A config built from YAML text (tests); `source` names it in messages.
RunConfig parse_run_config(const std::string& yaml, const std::vector<std::string>& overrides = {},
                           const std::string& source = "<string>");

/// The images of one split (`train`, `val`, `test` map to the config's split names; any other name is a
/// split of the data set; `all` is every image).
Dataset split_of(const RunConfig& rc, const std::string& which);

/// Builds the detector node through builtin_registries() with the data set's class names, after
/// seed_component_init(seed): the same config and seed give the same initial weights in every process. Unknown
/// types and keys give an InputError naming the file and the dotted path.
std::unique_ptr<Detector> build_detector(const RunConfig& rc, uint64_t seed = 0);

}  // namespace detlab
