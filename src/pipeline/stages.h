// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Stage interfaces of the staged meta-architecture: backbone -> proposals -> region features -> classifier.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "core/fwd.h"
#include "core/image.h"
#include "core/types.h"
#include "pipeline/build_context.h"

namespace detlab {

struct Dataset;
struct ClassifierTrainContext;  // pipeline/training.h

/// Per-image state shared by the stages of one detect() call.
struct ImageContext {
  const Image* image = nullptr;
  float scale = 1.f;                        // input -> network resize factor (1 when no backbone resizes)
  std::shared_ptr<const FeatureMaps> maps;  // set iff the pipeline has a shared backbone (computed once)
};

/// Features of a list of regions; row i <-> proposals[i]. Exactly one of host / device is set.
///
/// Feature groups: a stage whose descriptor length depends on the region (HOG over several window shapes:
/// group k = window shape k, pipeline/window_groups.h) tags each row with its group; rows are zero-padded to host.cols and only the
/// first group_dims[g] columns of a row of group g are meaningful. A classifier scores class c only on the
/// rows of the group it was trained on. groups empty = every row in group 0 of length host.cols.
struct RegionFeatures {
  cv::Mat host;                              // N x D, CV_32F (HOG; CNN vectors for an SVM)
  std::shared_ptr<const at::Tensor> device;  // N x C x h x w (RoI pooling -> network head)
  int device_rows = 0;                       // N when device is set (kept here so callers need no torch)
  std::vector<int> groups;                   // empty, or N entries in [0, group_dims.size())
  std::vector<int> group_dims;               // empty, or descriptor length per group (<= host.cols)
  int rows() const { return device ? device_rows : host.rows; }
  int group(int row) const { return groups.empty() ? 0 : groups[row]; }
  int dim(int group) const { return group_dims.empty() ? host.cols : group_dims[group]; }
};

/// Classifier output; row i <-> proposals[i].
struct RegionScores {
  cv::Mat scores;  // N x (K+1), CV_32F, column 0 = background; higher = more likely
  cv::Mat deltas;  // N x 4K CV_32F class-specific box deltas (dx, dy, dw, dh), or empty (keep proposal boxes)
};

/// Optional shared feature extractor run once per image before the other stages (a CNN trunk). Torch-backed
/// implementations live with the nn adapters; this interface stays torch-free.
class BackboneStage {
 public:
  virtual ~BackboneStage() = default;
  /// requires: ctx.image set.  ensures: ctx.maps set; ctx.scale = network input size / image size.
  virtual void forward(ImageContext& ctx) = 0;
  /// Output feature maps by name (channels, stride), handed to later builders through BuildContext::backbone.
  virtual std::map<std::string, FeatureShape> output_shape() const = 0;
  virtual std::string_view name() const = 0;
  virtual void save(const std::filesystem::path& dir) const {}
  virtual void load(const std::filesystem::path& dir) {}
};

/// Produces class-agnostic candidate regions.
/// thread safety: propose() may be called concurrently on different contexts unless a stage says otherwise.
class ProposalStage {
 public:
  virtual ~ProposalStage() = default;
  /// ensures: boxes inside the image; sorted by objectness (desc); size() <= max_proposals().
  virtual Proposals propose(const ImageContext& ctx) = 0;
  virtual std::string_view name() const = 0;
  /// Upper bound on propose().size() (the max_proposals option).
  virtual int max_proposals() const = 0;

  /// Learns data-dependent settings from the training set (window shapes from the boxes). Default: none.
  virtual void fit(const Dataset& train) {}
  /// Persists / restores what fit() learned in dir (files named after the stage; each carries a version).
  virtual void save(const std::filesystem::path& dir) const {}
  virtual void load(const std::filesystem::path& dir) {}
};

/// Turns regions into feature vectors / maps.
/// thread safety: extract() may be called concurrently on different contexts (after set_window_shapes(), for
/// the stages that have window shapes: pipeline/window_groups.h).
class FeatureStage {
 public:
  virtual ~FeatureStage() = default;
  /// requires: proposals came from propose(ctx) on the same ctx (or are boxes inside ctx.image).
  /// ensures:  exactly one of host / device is set; its row count == proposals.size().
  virtual RegionFeatures extract(const ImageContext& ctx, const Proposals& proposals) = 0;
  virtual std::string_view name() const = 0;

  /// Persists / restores learned state, if any (files named after the stage; each carries a version).
  virtual void save(const std::filesystem::path& dir) const {}
  virtual void load(const std::filesystem::path& dir) {}
};

/// Scores regions for K classes plus background.
/// thread safety: classify() is const in effect after fit() / load() and may run concurrently.
class ClassifierStage {
 public:
  virtual ~ClassifierStage() = default;
  /// ensures: scores is rows() x (num_classes() + 1); deltas is empty or rows() x 4 * num_classes().
  virtual RegionScores classify(const RegionFeatures& features) = 0;
  virtual int num_classes() const = 0;
  virtual std::string_view name() const = 0;

  /// Trains on the training images seen through the stages before it (pipeline/training.h). Default: none.
  virtual void fit(const ClassifierTrainContext& ctx) {}
  /// Persists / restores learned weights in dir (files named after the stage; each carries a version).
  virtual void save(const std::filesystem::path& dir) const {}
  virtual void load(const std::filesystem::path& dir) {}
  virtual int64_t num_parameters() const { return 0; }
};

}  // namespace detlab
