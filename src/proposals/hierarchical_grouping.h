// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Selective search's hierarchical grouping (Uijlings et al. 2013) over OpenCV ximgproc's segmentations and
// similarity strategies, ranked with a generator of its own: the same boxes in the same order on any thread.
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

namespace detlab {

/// ximgproc's presets (SelectiveSearchSegmentation::switchToSingleStrategy / switchToSelectiveSearchFast /
/// switchToSelectiveSearchQuality) with their parameters.
struct GroupingStrategy {
  enum class Mode { kSingle, kFast, kQuality };
  Mode mode = Mode::kFast;
  int base_k = 150;
  int inc_k = 150;
  float sigma = 0.8f;
};

/// What ximgproc's SelectiveSearchSegmentation::process() returns after std::srand(seed) on a thread that
/// nothing else draws from: boxes sorted by rank = rand() / RAND_MAX * hierarchy level (lower first), duplicates
/// removed (first kept). The grouping is ximgproc's, through its public graph segmentation and strategy
/// objects; the ranks come from a generator local to this call with glibc's rand() sequence (random_r), so
/// concurrent calls do not share std::rand()'s state and the result does not depend on scheduling.
/// tests/proposals/test_selective_search.cpp checks equality with ximgproc's process() on one thread.
/// requires: bgr is CV_8UC3. thread safety: reentrant.
std::vector<cv::Rect> selective_search_boxes(const cv::Mat& bgr, const GroupingStrategy& strategy, uint32_t seed);

}  // namespace detlab
