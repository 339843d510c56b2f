// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Checkpoints (model, optimizer, progress, random state) with a format version. Plain weight files (the trained
// model) are nn/weights/weight_file.h's state dicts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace detlab {

class GroupedOptimizer;

/// Format version: a reader fails with InputError on any other value (src/README.md: persisted artifacts).
/// Version 2 ends with a checksum of the whole archive (version 1 files, without it, are still read).
constexpr int64_t kCheckpointVersion = 2;

/// Everything besides tensors that a resumed run needs to continue exactly where the checkpoint was taken.
struct TrainProgress {
  int64_t iteration = 0;        // optimizer steps taken
  int64_t epoch = 0;            // iteration / iters_per_epoch
  double elapsed_seconds = 0;   // training time before the checkpoint (the log's time column continues)
  uint64_t seed = 0;            // the run's seed; a resume with another seed is refused
  int64_t batch_size = 0;       // likewise (they define the batch stream)
  int64_t dataset_size = 0;
  int64_t total_iterations = 0;
  std::map<std::string, double> log_sums;  // partial sums of the current train_log.csv window
  int64_t log_count = 0;                   // iterations in that window
};

/// Writes a checkpoint file atomically (temporary name, then rename): the module's parameters and buffers by
/// name, the optimizer state (if given), the progress and the default CPU generator's state.
void save_checkpoint(const std::filesystem::path& file, const torch::nn::Module& module,
                     const GroupedOptimizer* optimizer, const TrainProgress& progress);

/// Restores what save_checkpoint wrote into an already constructed module / optimizer (same architecture and
/// grouping), tensors moved to `device`, and sets the default CPU generator's state. Returns the progress.
/// Throws InputError naming the file when it is unreadable, corrupt or truncated (its checksum), not a detlab
/// checkpoint, of another version, or does not fit the module (missing / unexpected names, shape mismatch: the name and both shapes).
TrainProgress load_checkpoint(const std::filesystem::path& file, torch::nn::Module& module,
                              GroupedOptimizer* optimizer, const torch::Device& device = torch::kCPU);

/// Loads only the model part of a checkpoint (e.g. to evaluate an intermediate one); leaves the random state
/// alone. InputError as load_checkpoint.
void load_checkpoint_model(const std::filesystem::path& file, torch::nn::Module& module);

/// The checkpoints/ folder of a run: ckpt_<iteration>.pt files plus a `latest` file naming the newest,
/// both replaced atomically, so that a kill at any moment leaves `latest` pointing to a complete file.
class CheckpointDir {
 public:
  explicit CheckpointDir(std::filesystem::path dir, int keep = 2);
  /// The newest complete checkpoint, if any. InputError when `latest` names a missing file.
  std::optional<std::filesystem::path> latest() const;
  /// Every ckpt_<iteration>.pt file, newest first (the resume's fallbacks when the latest is corrupt).
  std::vector<std::filesystem::path> all() const;
  /// Writes ckpt_<iteration>.pt, points `latest` at it, then deletes all but the newest `keep` (0: keep all).
  std::filesystem::path save(const torch::nn::Module& module, const GroupedOptimizer* optimizer,
                             const TrainProgress& progress);
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  int keep_;
};

}  // namespace detlab
