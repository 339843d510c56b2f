// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Maximally activating patches (Zeiler & Fergus 2014; Girshick et al. 2014, figure 4): for chosen channels of a
// layer, the data-set patches that excite them most, cropped by the channel's receptive field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "core/types.h"
#include "data/dataset.h"
#include "viz/score_model.h"

namespace detlab {

struct TopPatchesOptions {
  std::string layer;              // "" = model.default_layer()
  std::vector<int64_t> channels;  // empty: channels 0 .. num_channels - 1
  int num_channels = 8;
  int top_k = 8;                  // patches per channel, at most one per image (diverse examples, as the papers)
  int max_patch = 0;              // > 0: receptive fields larger than this (input pixels) are cropped to it
};

struct Patch {
  int64_t channel = 0;
  double value = 0;  // the activation
  int image = -1;    // index into the data set
  int64_t row = 0, col = 0;  // the cell
  Box box;           // the receptive field in original-image pixels (may extend past the image)
};

struct TopPatches {
  std::string layer;
  LayerGeometry geometry;
  int max_patch = 0;  // the cap applied (0: none)
  std::vector<int64_t> channels;
  std::vector<std::vector<Patch>> patches;  // [channel][rank], highest activation first
};

/*  Runs the model on every listed image (cells whose centre lies in the padding are ignored), keeps each
    channel's best cell per image and the top_k images per channel.
    requires: indices valid for images; channels < the layer's channels (InputError naming --channels).  */
TopPatches top_patches(ScoreModel& model, const Dataset& images, const std::vector<int>& indices,
                       const TopPatchesOptions& opts = {});

/// Rows = channels, columns = ranks: each patch cut from its image (grey outside it), fitted to `tile`
/// px, captioned with its activation; a label column names the channel.
cv::Mat render_top_patches(const TopPatches& t, const Dataset& images, int tile = 64);

}  // namespace detlab
