// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Stage interfaces of the staged meta-architecture: proposals -> region features -> classifier (torch-free).
#pragma once

#include <memory>
#include <string_view>

#include <opencv2/core/mat.hpp>

#include "core/fwd.h"
#include "core/image.h"
#include "core/types.h"

namespace detlab {

/// Per-image state shared by the stages of one detect() call.
struct ImageContext {
  const Image* image = nullptr;
  float scale = 1.f;                        // input -> network resize factor (1 when no backbone resizes)
  std::shared_ptr<const FeatureMaps> maps;  // set iff the pipeline has a shared backbone (computed once)
};

/// Features of a list of regions; row i <-> proposals[i]. Exactly one of host / device is set.
struct RegionFeatures {
  cv::Mat host;                              // N x D, CV_32F (HOG; CNN vectors for an SVM)
  std::shared_ptr<const at::Tensor> device;  // N x C x h x w (RoI pooling -> network head)
  int device_rows = 0;                       // N when device is set (kept here so callers need no torch)
  int rows() const { return device ? device_rows : host.rows; }
};

/// Classifier output; row i <-> proposals[i].
struct RegionScores {
  cv::Mat scores;  // N x (K+1), CV_32F, column 0 = background; higher = more likely
  cv::Mat deltas;  // N x 4K CV_32F class-specific box deltas (dx, dy, dw, dh), or empty (keep proposal boxes)
};

/// Produces class-agnostic candidate regions.
/// thread safety: propose() may be called concurrently on different contexts unless a stage says otherwise.
class ProposalStage {
 public:
  virtual ~ProposalStage() = default;
  /// ensures: boxes inside the image; sorted by objectness (desc); size() <= the max_proposals option.
  virtual Proposals propose(const ImageContext& ctx) = 0;
  virtual std::string_view name() const = 0;
};

/// Turns regions into feature vectors / maps.
class FeatureStage {
 public:
  virtual ~FeatureStage() = default;
  /// requires: proposals came from propose(ctx) on the same ctx (or are boxes inside ctx.image).
  /// ensures:  exactly one of host / device is set; its row count == proposals.size().
  virtual RegionFeatures extract(const ImageContext& ctx, const Proposals& proposals) = 0;
  virtual std::string_view name() const = 0;
};

/// Scores regions for K classes plus background.
class ClassifierStage {
 public:
  virtual ~ClassifierStage() = default;
  /// ensures: scores is rows() x (num_classes() + 1); deltas is empty or rows() x 4 * num_classes().
  virtual RegionScores classify(const RegionFeatures& features) = 0;
  virtual int num_classes() const = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace detlab
