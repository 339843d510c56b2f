// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Matcher: assigns each prediction (anchor / proposal) the ground-truth box it overlaps best (torchvision Matcher).
#pragma once

#include <torch/types.h>

namespace detlab {

struct MatcherOptions {
  double high_threshold = 0.7;            // quality >= high: a match (RPN foreground IoU, Ren et al. 2015)
  double low_threshold = 0.3;             // quality < low: background; in between: ignored (RPN background IoU)
  bool allow_low_quality_matches = true;  // RPN: also match each gt's best anchors (Faster R-CNN, section 3.1.2)
};

/// What this represents: the anchor/proposal-to-ground-truth assignment of R-CNN training. For each prediction
/// (column of an M x N quality matrix, M ground truths) the best ground truth is taken (ties: ATen's max picks);
/// if its quality is below low_threshold the result is kBelowLowThreshold, if in [low, high) kBetweenThresholds.
/// With allow_low_quality_matches, every prediction that attains some ground truth's maximal quality (ties
/// included) keeps its best match even when below the thresholds. Identical to torchvision's det_utils.Matcher.
/// Thread safety: immutable after construction.
class Matcher {
 public:
  static constexpr int64_t kBelowLowThreshold = -1;
  static constexpr int64_t kBetweenThresholds = -2;

  /// requires: low_threshold <= high_threshold.
  explicit Matcher(MatcherOptions opts = {});

  /// requires: match_quality_matrix M x N with M > 0 ground truths and N > 0 predictions (else c10::Error, as
  ///           torchvision raises: training needs both).
  /// ensures:  N int64 values in [0, M) or kBelowLowThreshold / kBetweenThresholds, on the matrix's device.
  at::Tensor operator()(const at::Tensor& match_quality_matrix) const;

  const MatcherOptions& options() const { return opts_; }

 private:
  MatcherOptions opts_;
};

}  // namespace detlab
