// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Sigmoid focal loss: torchvision's expression, operation for operation.
#include "nn/losses/focal_loss.h"

#include <ATen/core/Reduction.h>

namespace detlab::nn {

at::Tensor sigmoid_focal_loss(const at::Tensor& logits, const at::Tensor& targets, const FocalLossOptions& opts) {
  TORCH_CHECK(logits.sizes() == targets.sizes(), "sigmoid_focal_loss: logits ", logits.sizes(), " and targets ",
              targets.sizes(), " must have the same shape");
  const at::Tensor p = at::sigmoid(logits);
  const at::Tensor ce = at::binary_cross_entropy_with_logits(logits, targets, {}, {}, at::Reduction::None);
  const at::Tensor p_t = p * targets + (1 - p) * (1 - targets);
  at::Tensor loss = ce * at::pow(1 - p_t, opts.gamma);
  if (opts.alpha >= 0) {
    const at::Tensor alpha_t = opts.alpha * targets + (1 - opts.alpha) * (1 - targets);
    loss = alpha_t * loss;
  }
  return reduce(loss, opts.reduction);
}

}  // namespace detlab::nn
