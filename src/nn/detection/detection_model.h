// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DetectionModel: the torch-side interface every deep detector network implements (dense, two-stage, set).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <array>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace detlab {

/// Height and width of one image inside a padded batch tensor (pixels outside are padding).
using ImageSize = std::array<int64_t, 2>;

/// Ground truth of one image, in the input tensor's pixel coordinates.
struct NetTarget {
  torch::Tensor boxes;   // K x 4 float32, x1 y1 x2 y2 (continuous pixels, core/types.h convention)
  torch::Tensor labels;  // K int64 in [0, num_classes)
};

/// Final detections of one image, in the input tensor's pixel coordinates (inside its ImageSize).
struct NetDetections {
  torch::Tensor boxes;   // D x 4 float32
  torch::Tensor scores;  // D float32, sorted descending
  torch::Tensor labels;  // D int64 in [0, num_classes)
};

/// Wall time per part of one forward pass, in milliseconds, in execution order ("backbone", "rpn", ...).
using NetTimes = std::vector<std::pair<std::string, double>>;

/// What this represents: a complete detection network (backbone, heads, box decoding and its own
/// post-processing: per-level top-k, NMS, max detections), as torchvision's detection models are. Labels are
/// contiguous 0..K-1 (no background index). Two modes, as a detectron2 meta-architecture:
///  - detect(): inference. requires: eval mode; caller holds a NoGradGuard.
///  - losses(): training objective. requires: train mode; targets.size() == images.size(0).
/// thread safety: one forward at a time per instance.
class DetectionModel : public torch::nn::Module {
 public:
  /*  requires: images N x 3 x H x W normalized (as the detector's TransformOptions produce), padded;
                image_sizes.size() == N, each (h, w) <= (H, W).
      ensures:  N results; boxes clipped to their image size; if times, the parts' wall times are appended. */
  virtual std::vector<NetDetections> detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                            NetTimes* times = nullptr) = 0;
  /*  ensures: scalar losses on the images' device, the same keys at every call (train_log.csv columns). */
  virtual std::map<std::string, torch::Tensor> losses(const torch::Tensor& images,
                                                      const std::vector<ImageSize>& image_sizes,
                                                      const std::vector<NetTarget>& targets) = 0;
  virtual int64_t num_classes() const = 0;
  /// Learning-rate multiplier of one parameter (e.g. 0.1 for DETR's backbone); see train/trainable.h.
  virtual double lr_multiplier(const std::string& param_name) const { return 1.0; }
};

}  // namespace detlab
