// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// AnchorGenerator: sizes x aspect ratios per feature level, tiled over each map (torchvision's AnchorGenerator).
#pragma once

#include <torch/types.h>

#include <array>
#include <vector>

namespace detlab {

struct AnchorGeneratorOptions {
  /// sizes[l]: anchor sizes (sqrt of the area, input pixels) of feature level l.
  std::vector<std::vector<double>> sizes = {{128, 256, 512}};  // torchvision's default (one level, Faster R-CNN C4)
  /// aspect_ratios[l]: height / width ratios of level l; either one list per level or a single list for all.
  std::vector<std::vector<double>> aspect_ratios = {{0.5, 1.0, 2.0}};  // Ren et al. 2015 (Faster R-CNN)
};

/// What this represents: the anchors of an RPN / RetinaNet head. Level l has one zero-centred "cell anchor" per
/// (aspect ratio, size) pair, ratio-major, with half-extents rounded to integers (torchvision rounds the base
/// anchors, half to even); the cell anchors are repeated at every feature-map location, shifted by
/// (x * stride_w, y * stride_h) with the stride of level l taken as image_size // feature_size.
/// Anchors are identical to torchvision's for the same inputs. Thread safety: immutable after construction.
class AnchorGenerator {
 public:
  /// requires: sizes non-empty; aspect_ratios has one list, or as many lists as sizes; every list non-empty.
  explicit AnchorGenerator(AnchorGeneratorOptions opts = {});

  /// Zero-centred anchors (x1, y1, x2, y2) for one level: (ratios x scales) x 4, rounded (torchvision's
  /// generate_anchors; computed in float32 like torchvision, then cast).
  static at::Tensor generate_anchors(const std::vector<double>& scales, const std::vector<double>& aspect_ratios);

  /// Number of anchors per location for each level (sizes[l] x aspect_ratios[l]).
  std::vector<int64_t> num_anchors_per_location() const;
  /// Cell anchors of each level (float32, CPU).
  const std::vector<at::Tensor>& cell_anchors() const { return cell_anchors_; }

  /// requires: grid_sizes and strides have one (height, width) entry per level.
  /// ensures:  per level, (H_l * W_l * A_l) x 4 anchors, location-major (row, column, then cell anchor).
  std::vector<at::Tensor> grid_anchors(const std::vector<std::array<int64_t, 2>>& grid_sizes,
                                       const std::vector<std::array<int64_t, 2>>& strides,
                                       const at::TensorOptions& options) const;

  /// requires: images N x C x H x W (the padded batch); feature_maps one N x C_l x H_l x W_l tensor per level.
  /// ensures:  N tensors (one per image, all equal) of (sum_l H_l W_l A_l) x 4 anchors in the feature maps'
  ///           dtype and device, levels concatenated in order.
  std::vector<at::Tensor> forward(const at::Tensor& images, const std::vector<at::Tensor>& feature_maps) const;

 private:
  AnchorGeneratorOptions opts_;
  std::vector<at::Tensor> cell_anchors_;
};

}  // namespace detlab
