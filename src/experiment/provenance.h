// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// What a cached run's result depends on (config, data, seed, threads, device, code), and where it came from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "experiment/code_identity.h"
#include "experiment/run_config.h"

namespace detlab {

/// Everything a trained model or an evaluation depends on, kept part by part so that a stale entry can say
/// what changed. Two runs with equal inputs give equal results on the CPU (seeded, same thread count); the
/// key is one hash over all parts.
struct RunInputs {
  std::string config;  ///< hash of the resolved config nodes that matter (see train_inputs / eval_inputs)
  std::string data;    ///< content_hash of the data set, plus every file or folder the detector node names
  uint64_t seed = 0;
  int threads = 0;     ///< library threads in use (results of float reductions depend on it)
  std::string device = "cpu";
  CodeIdentity code;   ///< the source files the run's components reach (code_identity.h)

  std::string key() const;
  nlohmann::json to_json() const;
  /// std::invalid_argument (from nlohmann) for a malformed object.
  static RunInputs from_json(const nlohmann::json& j);
};

/// What one run of a config reads besides its config, as a hash: content_hash(rc.dataset) and the content of
/// every existing file or folder that a string value of the detector node names (proposal caches, weight
/// files, another run's model folder: its train key when it has one, else its files but checkpoints/).
/// Hashing is cached per file (data/content_hash.h), so the entries of one comparison read the data once.
std::string run_data_hash(const RunConfig& rc);

/// The train side: the dataset node and the detector node with every eval-only key set to null (those keys
/// change inference only, so runs that differ there share one model), and the code of the detector's
/// components (component_files of every `type` in the detector node) with the data readers.
/// requires: each eval-only key is a dotted path that Config::set accepts on rc.root (InputError otherwise).
RunInputs train_inputs(const RunConfig& rc, const std::string& data_hash, uint64_t seed, int threads,
                       const std::string& device, const std::vector<std::string>& eval_only);

/// The eval side: the train key, the full detector node, the eval node and the split, and the code of the
/// train side plus the harness that detects and scores (experiment/run.cpp, eval/).
RunInputs eval_inputs(const RunConfig& rc, const RunInputs& train, const std::string& split);

/// How `now` differs from `before`, one line per part: "config", "data", "seed 0 -> 1", "threads 1 -> 2",
/// "device cpu -> cuda", "code: nn/backbones/resnet.cpp (changed), ..." (at most 5 files named). Empty when equal.
std::vector<std::string> describe_changes(const RunInputs& before, const RunInputs& now);

/// Whether only what --reuse-stale may overlook differs (code, data, threads, device): same config and seed.
bool same_config_and_seed(const RunInputs& a, const RunInputs& b);

}  // namespace detlab
