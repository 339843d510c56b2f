// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// BalancedPositiveNegativeSampler: a fixed-size minibatch of anchors / proposals with a positive fraction.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <optional>
#include <utility>
#include <vector>

namespace detlab {

struct BalancedSamplerOptions {
  int64_t batch_size_per_image = 512;  // Fast R-CNN: 128 RoIs per image x 4 in torchvision's default (512)
  double positive_fraction = 0.25;     // Fast R-CNN: 25% foreground RoIs (Girshick 2015); the RPN uses 256 / 0.5
};

/// What this represents: R-CNN's minibatch sampling. Per image, at most floor(batch * fraction) positives
/// (matched index >= 1) and then up to batch - #positives negatives (matched index == 0) are drawn uniformly
/// without replacement; -1 (or any other negative) is ignored. Identical to torchvision's sampler: with the same
/// generator state it draws the same elements (torch.randperm on the same device).
/// Thread safety: the sampler is immutable; the generator is shared state (lock it or give each thread its own).
class BalancedPositiveNegativeSampler {
 public:
  /// requires: batch_size_per_image >= 0; 0 <= positive_fraction <= 1.
  explicit BalancedPositiveNegativeSampler(BalancedSamplerOptions opts = {});

  /// requires: one 1-D integer tensor per image (the matched labels: >= 1 positive, 0 negative, < 0 ignored).
  /// ensures:  (positive masks, negative masks), uint8 tensors shaped like the inputs, disjoint, with
  ///           #pos <= batch * fraction and #pos + #neg <= batch. Randomness from `generator` (the global
  ///           default generator when empty); deterministic for a given generator state.
  std::pair<std::vector<at::Tensor>, std::vector<at::Tensor>> operator()(
      const std::vector<at::Tensor>& matched_idxs, std::optional<at::Generator> generator = std::nullopt) const;

  const BalancedSamplerOptions& options() const { return opts_; }

 private:
  BalancedSamplerOptions opts_;
};

}  // namespace detlab
