// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Activation maps of a named layer (Yosinski et al. 2015, "live" activations; Zeiler & Fergus 2014).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>
#include <torch/types.h>

#include "viz/heatmap.h"
#include "viz/score_model.h"

namespace detlab {

struct ActivationOptions {
  std::string layer;              // "" = model.default_layer()
  std::vector<int64_t> channels;  // empty: the max_channels channels with the largest mean activation
  int max_channels = 16;          // a 4 x 4 grid
};

struct ActivationMaps {
  std::string layer;
  std::vector<int64_t> channels;  // shown channels, in grid order
  torch::Tensor maps;             // channels.size() x h x w, float32 CPU
  Heatmap mean;                   // kLayer: the mean over ALL channels of the layer (its overall response)
};

/*  One forward pass without gradients; requires input 1 x 3 x H x W; channels < the layer's channels
    (InputError naming --channels otherwise).  */
ActivationMaps activations(ScoreModel& model, const torch::Tensor& input, const ActivationOptions& opts = {});

/// A grid of the channel maps on one shared colour scale [0, max] (with its colour bar), each captioned "ch <k>".
cv::Mat render_activation_grid(const ActivationMaps& a, int tile = 96, int cols = 4);

}  // namespace detlab
