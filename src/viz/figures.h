// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Figures: each method's result written as a PNG (heat map over the image, colour bar, title) plus its raw values
// (CSV on the grid they were computed on) and a JSON sidecar (method, layer, target, score, geometry, range).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/types.h"
#include "data/dataset.h"
#include "viz/activations.h"
#include "viz/class_image.h"
#include "viz/embeddings.h"
#include "viz/heatmap.h"
#include "viz/render.h"
#include "viz/top_patches.h"
#include "viz/tsne.h"

namespace detlab {

struct FigureOptions {
  Colormap colormap = Colormap::kInferno;
  float alpha = 0.5f;
  bool show_input = true;  // the plain image left of the overlay
};

/// Human name and colour-bar label of a Heatmap's method ("grad_cam" -> "Grad-CAM", "relevance").
std::string method_title(const std::string& method);

/*  <dir>/<stem>.png: the map aligned on the original image (heatmap_to_image), colour bar, title "<method> |
    layer | target (score)"; `boxes` are outlined on both panels (e.g. the explained detection).
    <dir>/<stem>.csv: map.values as computed (layer cells or network-input pixels), one row per line.
    <dir>/<stem>.json: {method, grid, layer, target, target_name, score, rows, cols, min, max, stride, offset,
    receptive_field, image: {width, height, scale_x, scale_y}}. Every file is written atomically.  */
void save_heatmap(const Heatmap& map, ScoreModel& model, const ModelInput& in, const std::filesystem::path& dir,
                  const std::string& stem, const FigureOptions& fig = {}, const std::vector<Box>& boxes = {},
                  const std::string& subtitle = "");

/// <stem>.png: the first convolution's kernels; <stem>.csv: the weights, one kernel per row (C_in * kh * kw).
void save_filters(ScoreModel& model, const std::filesystem::path& dir, const std::string& stem);

/// <stem>.png: the channel grid beside the overlay of the layer's mean activation; <stem>.csv: the channel-mean map.
void save_activations(const ActivationMaps& a, ScoreModel& model, const ModelInput& in,
                      const std::filesystem::path& dir, const std::string& stem, const FigureOptions& fig = {});

/// <stem>.png: the patch grid; <stem>.csv: channel, rank, image, row, col, activation, x1, y1, x2, y2.
void save_top_patches(const TopPatches& t, const Dataset& images, const std::filesystem::path& dir,
                      const std::string& stem);

/// <stem>.png: the labelled scatter plot; <stem>.csv: x, y, label, class per point.
void save_tsne(const TsneResult& r, const Embeddings& e, const std::filesystem::path& dir, const std::string& stem,
               const std::string& title);

/// <stem>.png: one tile per image (enlarged, captioned with its target and final score); <stem>.csv: the score
/// after every step, one column per image.
void save_class_images(const std::vector<ClassImageResult>& results, const std::vector<std::string>& names,
                       const TransformOptions& transform, const std::filesystem::path& dir, const std::string& stem,
                       const std::string& title);

}  // namespace detlab
