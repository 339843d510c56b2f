// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Softmax cross-entropy classification loss (torch.nn.functional.cross_entropy semantics).
#pragma once

#include <torch/types.h>

#include "nn/losses/reduction.h"

namespace detlab {

struct CrossEntropyOptions {
  at::Tensor weight;                       // optional C per-class weights (undefined: all 1)
  int64_t ignore_index = -100;             // targets equal to this contribute nothing (torch's default)
  Reduction reduction = Reduction::kMean;  // mean: weighted mean over non-ignored targets
  double label_smoothing = 0.0;            // in [0, 1]; 0 = plain cross entropy
};

/// requires: logits N x C (or N x C x d1 ...), target N (or N x d1 ...) int64 class indices in [0, C) or
///           ignore_index; weight, if defined, has C elements of logits' dtype.
/// ensures:  -log softmax(logits)[target], weighted and reduced as torch's cross_entropy.
at::Tensor cross_entropy_loss(const at::Tensor& logits, const at::Tensor& target, const CrossEntropyOptions& opts = {});

}  // namespace detlab
