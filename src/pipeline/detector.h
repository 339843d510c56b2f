// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Detector: the one interface the evaluation harness, the CLI and the experiments know.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/image.h"
#include "core/types.h"

namespace detlab {

struct Dataset;

/// Wall time spent per stage of one detect() call, in milliseconds, in pipeline order
/// (e.g. {"proposals", 12.1}, {"features", 30.4}, {"classifier", 2.0}, {"post", 0.3}).
using StageTimes = std::vector<std::pair<std::string, double>>;

/// What fit() needs besides the detector's own configuration.
struct TrainContext {
  const Dataset* train = nullptr;  // required
  const Dataset* val = nullptr;    // optional: periodic evaluation / early checks
  std::filesystem::path out_dir;   // checkpoints, train_log.csv, the saved model
  int threads = 0;                 // 0 = library default
  uint64_t seed = 0;
  std::string device = "cpu";      // "cpu" or "cuda"
  bool resume = false;             // continue from the last checkpoint in out_dir
};

/// A trained (or trainable) object detector.
/// thread safety: detect() is not required to be reentrant; use one instance per thread.
class Detector {
 public:
  virtual ~Detector() = default;

  /// ensures: boxes clipped to the image; sorted by score (desc); at most max_per_image; labels in
  ///          [0, num_classes()). If times != nullptr it receives the per-stage wall times.
  virtual Detections detect(const Image& image, StageTimes* times) = 0;
  Detections detect(const Image& image) { return detect(image, nullptr); }

  /// Registry name; used as the row key in result tables.
  virtual std::string_view name() const = 0;
  virtual int num_classes() const = 0;

  /// Trains every learnable part on ctx.train. Detectors without learnable parts do nothing.
  virtual void fit(const TrainContext& ctx) {}
  /// Persists / restores learned state in a folder (each file carries a format version).
  virtual void save(const std::filesystem::path& dir) const = 0;
  virtual void load(const std::filesystem::path& dir) = 0;
  /// Number of learned parameters (weights of networks, SVM weights), for result tables.
  virtual int64_t num_parameters() const { return 0; }
};

}  // namespace detlab
