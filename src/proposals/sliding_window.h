// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// sliding_window: every window of one or more shapes over an image pyramid (Dalal & Triggs 2005).
#pragma once

#include <memory>
#include <vector>

#include "config/config.h"
#include "pipeline/stages.h"
#include "pipeline/window_groups.h"

namespace detlab {

/// Options of the sliding-window proposal stage. Level l of the pyramid resizes the image by
/// s_l = s_top / scale_step^l; a window of w x h pixels at level l is the box (x / s, y / s, (x + w) / s,
/// (y + h) / s) of the input image. Stride and window sides that are multiples of the HOG cell let the hog
/// feature stage cut every window out of one HOG grid per level (features/hog.h).
struct SlidingWindowOptions {
  /// Window shapes (pixels at scale 1). Empty: learned by fit(), one per class, from the median aspect ratio
  /// of its training boxes, with area window_area; before fit() one square window of that area.
  /// Shapes must differ in aspect ratio by more than kMinAspectGap so that a box names its shape.
  std::vector<WindowShape> windows;
  int stride = 8;            // pixels at each level; one HOG cell as in Dalal & Triggs 2005
  float scale_step = 1.2f;   // ratio of consecutive levels; D&T used 1.05, 1.2 keeps training in seconds
  /// Object side (sqrt of area) range to scan, in input pixels; 0 = no upsampling (min) / up to the image
  /// (max). Learned windows ignore them: their range comes from the training boxes (size_quantile).
  float min_object = 0.f;
  float max_object = 0.f;
  int max_proposals = 200000;  // safety bound; above it an evenly spaced subset is kept
  int window_area = 2304;      // learned windows: 48 x 48 px = 6 x 6 cells of 8 px, small enough for platelets
  int align = 8;               // learned window sides are multiples of this (the HOG cell)
  float size_quantile = 0.02f; // learned scale range covers the [q, 1 - q] quantiles of the class's box sizes
};

/// Two shapes whose aspect ratios (w / h) differ by less than this factor are treated as the same shape.
constexpr float kMinAspectGap = 1.05f;

/// Keys: windows (auto | [w, h] | [[w, h], ...]), stride, scale_step, min_object, max_object, max_proposals,
/// window_area, align, size_quantile.
SlidingWindowOptions parse_sliding_window(const Config& node);
std::unique_ptr<ProposalStage> make_sliding_window(const SlidingWindowOptions& opts);

}  // namespace detlab
