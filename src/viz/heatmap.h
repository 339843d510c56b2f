// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Heatmap: the result of a map-valued method, and its alignment from layer / input grids to the original image.
#pragma once

#include <string>

#include <opencv2/core/mat.hpp>
#include <torch/types.h>

#include "core/types.h"
#include "viz/score_model.h"

namespace detlab {

/// A 2-D map produced by a method, on the grid it was computed on.
struct Heatmap {
  enum class Grid { kLayer, kInput };
  Grid grid = Grid::kLayer;
  torch::Tensor values;     // h x w float32 on the CPU: layer cells (kLayer) or network-input pixels (kInput)
  std::string method;       // "grad_cam", "cam", "saliency", "smoothgrad", "occlusion", "activation"
  std::string layer;        // kLayer: the layer; kInput: ""
  int64_t target = -1;      // score column explained (-1: none)
  std::string target_name;
  double score = 0;         // the target's score on the unmodified input
};

/*  The map on the original image: a CV_32F orig_height x orig_width cv::Mat.
    kLayer: cell (i, j) is placed at its measured centre (model.geometry(layer): offset + stride * j), bilinear
    in between (constant beyond the outermost centres), then the network's resize is undone.
    kInput: the padding is cut off and the resize undone.
    requires: values h x w; meta from make_input() with this model.  */
cv::Mat heatmap_to_image(const Heatmap& map, ScoreModel& model, const ImageMeta& meta);

/// The same for a raw layer map with a known geometry (no model).
cv::Mat layer_map_to_image(const torch::Tensor& values, const LayerGeometry& g, const ImageMeta& meta);
/// The same for a map over the network input (H x W, the padded tensor's grid).
cv::Mat input_map_to_image(const torch::Tensor& values, const ImageMeta& meta);

/*  Cell evidence of one region as a map over the network input (Grid::kInput, height x width): the cells tile
    `grid` (input pixels, row-major, equal cells), sampled bilinearly between cell centres, zero outside the
    grid; negative evidence is cut at 0 (Grad-CAM's ReLU). For explainers that score a region through features
    of their own (HOG windows, warped crops; viz/detection_target.h: region_grad_cam).
    requires: cells CV_32F non-empty; height, width > 0.  */
torch::Tensor region_cells_map(const cv::Mat& cells, const Box& grid, int64_t height, int64_t width);

/// A 2-D float tensor as a CV_32F cv::Mat (a copy).
cv::Mat to_mat(const torch::Tensor& values);

}  // namespace detlab
