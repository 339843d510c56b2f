// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Training hooks of the staged pipeline: the training images as a trainable classifier stage sees them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "pipeline/stages.h"

namespace detlab {

/// One training image seen through the stages before the classifier (backbone, proposals, features), so
/// that a classifier can sample positives, mine hard negatives and fit box regressors the way it is used
/// at detection time (R-CNN, Girshick et al. 2014, section 2.3; Dalal & Triggs 2005, section 3).
/// thread safety: one instance per worker; different instances may be used concurrently.
class TrainingImage {
 public:
  virtual ~TrainingImage() = default;
  /// Position in the training set, [0, RegionSource::num_images()).
  virtual int index() const = 0;
  /// Ground truth (boxes in image pixels, labels in [0, K)).
  virtual const ImageRecord& record() const = 0;
  virtual const ImageContext& context() const = 0;
  /// The proposal stage's output for this image, computed on the first call.
  virtual const Proposals& proposals() = 0;
  /// The feature stage on any boxes of this image (detection behaviour: the stage picks each row's group).
  virtual RegionFeatures features(const Proposals& regions) = 0;
  /// The feature stage with each row forced into a group (positives warped to their class's window).
  virtual RegionFeatures features_as(const Proposals& regions, const std::vector<int>& groups) = 0;
};

/// The training set seen through the pipeline's earlier stages.
class RegionSource {
 public:
  virtual ~RegionSource() = default;
  virtual int num_images() const = 0;
  virtual const std::vector<std::string>& class_names() const = 0;
  int num_classes() const { return static_cast<int>(class_names().size()); }
  /// Feature group in which class c is detected (its window shape; 0 for single-group features).
  virtual int group_of_class(int c) const = 0;
  /// Calls fn once for each image index in `images`, spread over the worker threads, with a progress bar
  /// labelled `label`. fn runs concurrently for different images and must synchronise what it shares.
  /// The first exception thrown by fn is rethrown after the workers stop.
  virtual void for_each(const std::vector<int>& images, const std::string& label,
                        const std::function<void(TrainingImage&)>& fn) = 0;
};

/// What ClassifierStage::fit() receives.
struct ClassifierTrainContext {
  RegionSource* source = nullptr;  // required
  int threads = 1;                 // worker threads behind RegionSource::for_each (informational)
  uint64_t seed = 0;               // for every random choice (sampling negatives, subsets)
  std::filesystem::path out_dir;   // for logs (train_log.csv); may be empty
};

}  // namespace detlab
