// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DefaultBoxGenerator: SSD's default boxes (Liu et al. 2016, section 2.2), torchvision's DefaultBoxGenerator.
#pragma once

#include <torch/types.h>

#include <array>
#include <cstdint>
#include <vector>

namespace detlab {

struct DefaultBoxOptions {
  /// aspect_ratios[k]: the extra ratios r of feature map k; each adds two boxes (r and 1/r). The paper's set
  /// {1, 2, 3, 1/2, 1/3} is {2, 3} here (ratio 1 is always there, twice). One list per feature map.
  std::vector<std::vector<double>> aspect_ratios = {{2}, {2, 3}, {2, 3}, {2, 3}, {2}, {2}};  // SSD300
  /// With `scales` empty: s_k = min_ratio + (max_ratio - min_ratio) k / (m - 1) for the m maps, plus 1.0
  /// (the paper's s_min = 0.2, s_max = 0.9).
  double min_ratio = 0.2;
  double max_ratio = 0.9;
  /// m + 1 explicit scales (fractions of the image side); the extra one sizes the last map's s'_k box.
  std::vector<double> scales;
  /// Pixel step between box centres per map; empty: image size / map size (the centres then tile the map).
  std::vector<double> steps;
  bool clip = true;  // clamp widths / heights (as fractions of the image) to [0, 1], as torchvision does
};

/// torchvision's ssd300_vgg16 anchors: scales 0.07..1.05 and steps 8..300 from the SSD authors' Caffe model.
DefaultBoxOptions ssd300_default_boxes();
/// torchvision's ssdlite320_mobilenet_v3_large anchors: {2, 3} on 6 maps, scales 0.2..0.95, no steps.
DefaultBoxOptions ssdlite320_default_boxes();

/// What this represents: the default boxes of SSD. Feature map k (H_k x W_k) gets, at every location
/// ((j + 0.5) / f_x, (i + 0.5) / f_y) with f = image size / step_k (or the map size), the boxes
/// (s_k, s_k), (s'_k, s'_k) with s'_k = sqrt(s_k s_{k+1}), and (s_k sqrt(r), s_k / sqrt(r)),
/// (s_k / sqrt(r), s_k sqrt(r)) per extra ratio r, in that order, scaled to pixels of the image size.
/// Same float operations as torchvision, so the boxes are bit-identical. Thread safety: immutable.
class DefaultBoxGenerator {
 public:
  /// requires: aspect_ratios non-empty; steps empty or one per map; scales empty or m + 1 of them;
  ///           ratios positive; 0 < min_ratio <= max_ratio.
  explicit DefaultBoxGenerator(DefaultBoxOptions opts = {});

  /// 2 + 2 * |aspect_ratios[k]| per map.
  std::vector<int64_t> num_anchors_per_location() const;
  size_t num_maps() const { return wh_pairs_.size(); }
  const std::vector<double>& scales() const { return scales_; }
  const DefaultBoxOptions& options() const { return opts_; }

  /// requires: one (height, width) per map; image_size (height, width) of the (padded) input tensor.
  /// ensures:  (sum_k H_k W_k A_k) x 4 boxes (x1, y1, x2, y2) in pixels, float32 on `options`' device;
  ///           location-major per map (row, column, then box), maps in order.
  torch::Tensor boxes(const std::vector<std::array<int64_t, 2>>& grid_sizes, std::array<int64_t, 2> image_size,
                      const torch::TensorOptions& options = {}) const;

  /// The same boxes for a batch: grid sizes from the feature maps, image size from images (N x C x H x W).
  torch::Tensor forward(const torch::Tensor& images, const std::vector<torch::Tensor>& feature_maps) const;

 private:
  DefaultBoxOptions opts_;
  std::vector<double> scales_;
  std::vector<torch::Tensor> wh_pairs_;  // per map: A x 2 (w, h) as fractions of the image, float32
};

}  // namespace detlab
