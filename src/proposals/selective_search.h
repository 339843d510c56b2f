// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// selective_search: hierarchical grouping proposals (Uijlings et al. 2013) via OpenCV ximgproc.
#pragma once

#include <cstdint>
#include <memory>

#include "config/config.h"
#include "pipeline/stages.h"

namespace detlab {

struct SelectiveSearchOptions {
  enum class Mode { kSingle, kFast, kQuality };
  Mode mode = Mode::kFast;  // Uijlings et al. 2013; presets as in ximgproc switchToSelectiveSearch*()
  int base_k = 150;         // Felzenszwalb k of the first segmentation (single: its only k); ximgproc default
  int inc_k = 150;          // k increment between the segmentations of fast / quality; ximgproc default
  float sigma = 0.8f;       // Gaussian smoothing before segmentation; ximgproc default
  int max_proposals = 2000; // R-CNN used ~2000 fast-mode boxes per image
  /// Resize so that the longer side is at most this many pixels before segmenting (0 = never); boxes are
  /// scaled back. Segmentation time grows with the pixel count, so 320 is about 4x faster on 640 x 480.
  int resize_to = 0;
  int min_size = 0;         // drop boxes whose shorter side is below this (input pixels); 0 keeps all
  uint64_t seed = 0x5e1ec7;  // seeds the ranking's generator of each image (hierarchical_grouping.h)
};

/// Keys: mode (single | fast | quality), base_k, inc_k, sigma, max_proposals, resize_to, min_size, seed.
SelectiveSearchOptions parse_selective_search(const Config& node);
/// thread safety: propose() may run concurrently (one image per thread) and gives the same boxes in the same
/// order whatever the number of threads: its random ranking has a generator per call.
std::unique_ptr<ProposalStage> make_selective_search(const SelectiveSearchOptions& opts);

}  // namespace detlab
