// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// hog: HOG descriptors of regions, computed once per pyramid level (OpenCV HOGDescriptor or dlib FHOG).
#pragma once

#include <memory>

#include "config/config.h"
#include "pipeline/stages.h"
#include "pipeline/window_groups.h"

namespace detlab {

/// HOG of regions. Each row is the descriptor of one window shape (feature group k = window shape k; the
/// shapes come from the proposal stage when it has any, else `window`), taken over the window plus `context`
/// cells of surrounding image on every side (Dalal & Triggs 2005, section 6.5: a 16-pixel margin around
/// their 48 x 112 pedestrians, 4 % better than 8 pixels), so the SVM sees an object's boundary against its
/// background, not only its inside. The region's box stays the window itself.
///
/// Fast path: a region that is a cell-aligned window of shape k at some pyramid scale (every box that
/// sliding_window proposes with a stride and window sides that are multiples of `cell`) is cut out of the
/// HOG grid of that level (padded by `context` cells, border pixels replicated), computed once per level for
/// all such regions. Any other box (selective search, RPN, ground truth) is warped: cropped with a margin,
/// resized so that the box becomes the window, and described alone. The [features][hog] tests check the
/// fast path against the per-window reference, and the warp against the fast path on aligned boxes.
struct HogOptions {
  enum class Backend { kOpenCv, kDlib };
  Backend backend = Backend::kOpenCv;
  int cell = 8;   // Dalal & Triggs 2005: 8 x 8-pixel cells performed best for pedestrians
  int block = 2;  // D&T: 2 x 2-cell blocks, stride one cell (OpenCV back end only)
  int bins = 9;   // D&T: 9 unsigned orientation bins (OpenCV back end only; FHOG has 31 fixed features)
  WindowShape window{64, 64};  // when the proposal stage has no window shapes: R-CNN-like square warps
  int context = 1;  // cells of image around the window inside the descriptor (D&T's margin, see above)
};

/// Keys: backend (opencv | dlib), cell, block, bins, window [w, h], context.
HogOptions parse_hog(const Config& node);
std::unique_ptr<FeatureStage> make_hog(const HogOptions& opts);

}  // namespace detlab
