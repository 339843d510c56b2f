// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Occlusion sensitivity (Zeiler & Fergus 2014): the drop of a score while a patch hides part of the input.
#pragma once

#include <cstdint>
#include <string>

#include "viz/heatmap.h"
#include "viz/score_model.h"

namespace detlab {

struct OcclusionOptions {
  enum class Fill { kMean, kBlack, kBlur };
  int size = 32;         // patch side in network-input pixels (about a BCCD cell at the classifier's scale)
  int stride = 8;        // step between patch positions (a quarter of the patch: smooth maps, 16x fewer passes)
  Fill fill = Fill::kMean;  // kMean: the normalization mean (0 after normalizing, the paper's grey square);
                            // kBlack: black pixels; kBlur: the input blurred over the patch size
  int64_t target = -1;   // score column; -1 = the best-scoring one
  bool softmax = false;  // occlude the softmax probability of the target instead of the raw score
  int batch = 16;        // occluded copies per forward pass
};

/// "mean" | "black" | "blur"; InputError (field `what`) otherwise.
OcclusionOptions::Fill parse_fill(const std::string& name, const std::string& what = "--fill");

struct OcclusionResult {
  Heatmap map;          // kInput H x W: at each pixel the mean drop over the patch positions covering it
  torch::Tensor drops;  // rows x cols: score(input) - score(occluded at that position), positions in row-major order
  std::vector<int64_t> ys, xs;  // top-left corners of the positions (network-input pixels)
};

/*  Slides the patch over the valid region [0, valid_w) x [0, valid_h) of the input (padding is never
    occluded) at multiples of stride, plus one position flush with the far border when the stride does not reach
    it, so that every valid pixel is covered. drop = score(input) - score(occluded).
    requires: input 1 x 3 x H x W; 1 <= valid_h <= H; 1 <= valid_w <= W; size >= 1; stride >= 1.
    ensures: map.values H x W, 0 outside the valid region.  */
OcclusionResult occlusion(ScoreModel& model, const torch::Tensor& input, int64_t valid_h, int64_t valid_w,
                          const OcclusionOptions& opts = {});

}  // namespace detlab
