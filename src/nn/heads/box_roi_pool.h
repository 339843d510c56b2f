// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoI feature poolers of the box head: torchvision's MultiScaleRoIAlign (with its LevelMapper) and RoI max pooling.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/detection/detection_model.h"

namespace detlab {

/// What this represents: the `box_roi_pool` of an R-CNN box head, the step that turns a variable-size region
/// into a fixed-size input for the head. Implementations: MultiScaleRoiAlign (Faster R-CNN with FPN, He et al.
/// 2017's RoIAlign), RoiMaxPool (Fast R-CNN's RoI pooling, Girshick 2015) and features/cnn_crop's warped-crop
/// network (R-CNN, Girshick et al. 2014), which reads the image instead of a feature map.
/// Thread safety: forward() in eval mode under NoGradGuard may run concurrently unless an implementation says not.
class RoiPooler : public torch::nn::Module {
 public:
  /*  requires: boxes.size() == image_sizes.size() == images.size(0); boxes[i] K_i x 4 (x1, y1, x2, y2) in pixels
                of the batch tensor; features holds the maps this pooler reads (by name).
      ensures:  (sum K_i) x output_shape(), rows in image order; differentiable w.r.t. features / parameters. */
  virtual torch::Tensor forward(const std::map<std::string, torch::Tensor>& features, const torch::Tensor& images,
                                const std::vector<torch::Tensor>& boxes, const std::vector<ImageSize>& image_sizes) = 0;
  /// Shape of one pooled region, e.g. {256, 7, 7}, or {D} for a vector.
  virtual std::vector<int64_t> output_shape() const = 0;
  /// Backbone maps read by forward(); empty for poolers that read the image.
  virtual std::vector<std::string> featmap_names() const = 0;
};

/// (sum K_i) x 5 RoIs (batch index, x1, y1, x2, y2): torchvision's _convert_to_roi_format.
torch::Tensor boxes_to_rois(const std::vector<torch::Tensor>& boxes);

struct MultiScaleRoiAlignOptions {
  std::vector<std::string> featmap_names{"0", "1", "2", "3"};  // fasterrcnn_resnet50_fpn: P2..P5 (not "pool")
  int64_t output_size = 7;     // the box head's input grid (torchvision)
  int64_t sampling_ratio = 2;  // bilinear samples per bin side (torchvision's Faster R-CNN)
  bool aligned = false;        // torchvision's MultiScaleRoIAlign calls roi_align with aligned=False
  int64_t canonical_scale = 224;  // LevelMapper: a 224 x 224 box maps to canonical_level (Lin et al. 2017, eq. 1)
  int64_t canonical_level = 4;
};

/// The FPN level of each box, as torchvision's LevelMapper: floor(canonical_level + log2(sqrt(area) /
/// canonical_scale) + 1e-6), clamped to [k_min, k_max], minus k_min. Computed in the boxes' dtype.
/// requires: boxes K x 4 (any number of images concatenated).  ensures: K int64 values in [0, k_max - k_min].
torch::Tensor map_levels(const torch::Tensor& boxes, int64_t k_min, int64_t k_max, int64_t canonical_scale = 224,
                         int64_t canonical_level = 4);

/// Scale of a map of `feature_size` over an image of `image_size` (one side), as torchvision's _infer_scale:
/// 2 ^ round(log2(feature / image)) with the logarithm taken in float32.
double infer_scale(int64_t feature_size, int64_t image_size);

/// What this represents: torchvision.ops.MultiScaleRoIAlign. The map scales are inferred from the feature
/// sizes and the largest (unpadded) image size of the batch; each box is pooled from the level map_levels()
/// assigns it (one level: that map, without the mapper) with roi_align. No parameters.
class MultiScaleRoiAlign : public RoiPooler {
 public:
  /*  requires: featmap_names non-empty; channels > 0 (of every map); output_size, sampling_ratio as roi_align. */
  MultiScaleRoiAlign(const MultiScaleRoiAlignOptions& options, int64_t channels);
  torch::Tensor forward(const std::map<std::string, torch::Tensor>& features, const torch::Tensor& images,
                        const std::vector<torch::Tensor>& boxes, const std::vector<ImageSize>& image_sizes) override;
  std::vector<int64_t> output_shape() const override;
  std::vector<std::string> featmap_names() const override { return options_.featmap_names; }
  const MultiScaleRoiAlignOptions& options() const { return options_; }

 private:
  MultiScaleRoiAlignOptions options_;
  int64_t channels_;
};

struct RoiMaxPoolOptions {
  std::string featmap;           // the single map pooled (e.g. VGG16 "conv5_3")
  int64_t output_size = 7;       // Fast R-CNN: 7 x 7, the size VGG16's fc6 expects
  int64_t stride = 16;           // of that map: spatial_scale = 1 / stride (VGG16 conv5_3: 16)
};

/// What this represents: Fast R-CNN's RoI pooling layer (Girshick 2015, section 2.1) on one map: roi_pool
/// with spatial scale 1 / stride. No parameters.
class RoiMaxPool : public RoiPooler {
 public:
  /*  requires: featmap non-empty; channels, output_size, stride > 0. */
  RoiMaxPool(const RoiMaxPoolOptions& options, int64_t channels);
  torch::Tensor forward(const std::map<std::string, torch::Tensor>& features, const torch::Tensor& images,
                        const std::vector<torch::Tensor>& boxes, const std::vector<ImageSize>& image_sizes) override;
  std::vector<int64_t> output_shape() const override;
  std::vector<std::string> featmap_names() const override { return {options_.featmap}; }
  const RoiMaxPoolOptions& options() const { return options_; }

 private:
  RoiMaxPoolOptions options_;
  int64_t channels_;
};

}  // namespace detlab
