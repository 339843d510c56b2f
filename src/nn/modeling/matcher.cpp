// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Matcher: torchvision det_utils.Matcher, the same tensor operations in C++.
#include "nn/modeling/matcher.h"

namespace detlab {

Matcher::Matcher(MatcherOptions opts) : opts_(opts) {
  TORCH_CHECK(opts_.low_threshold <= opts_.high_threshold, "Matcher: low_threshold (", opts_.low_threshold,
              ") must be <= high_threshold (", opts_.high_threshold, ")");
}

at::Tensor Matcher::operator()(const at::Tensor& quality) const {
  TORCH_CHECK(quality.dim() == 2, "Matcher: match_quality_matrix must be M x N, got ", quality.sizes());
  TORCH_CHECK(quality.size(0) > 0, "Matcher: no ground-truth boxes available for one of the images during training");
  TORCH_CHECK(quality.size(1) > 0, "Matcher: no proposal boxes available for one of the images during training");
  // Best ground truth for each prediction (max over dim 0).
  auto [matched_vals, matches] = quality.max(0);
  const at::Tensor all_matches = opts_.allow_low_quality_matches ? matches.clone() : at::Tensor();
  const at::Tensor below = matched_vals < opts_.low_threshold;
  const at::Tensor between = (matched_vals >= opts_.low_threshold) & (matched_vals < opts_.high_threshold);
  matches.masked_fill_(below, kBelowLowThreshold);
  matches.masked_fill_(between, kBetweenThresholds);
  if (opts_.allow_low_quality_matches) {
    // For each gt, the predictions of highest quality (ties included) get their best match back.
    const at::Tensor highest = std::get<0>(quality.max(1));
    const at::Tensor pairs = at::nonzero(quality == highest.unsqueeze(1));  // (gt, prediction) rows
    const at::Tensor preds = pairs.select(1, 1);
    matches.index_put_({preds}, all_matches.index_select(0, preds));
  }
  return matches;
}

}  // namespace detlab
