// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Sigmoid focal loss: torchvision's expression, except that the modulating factor (1 - p_t)^gamma is computed in
// log space. torchvision's pow(1 - p_t, gamma) has the derivative gamma (1 - p_t)^(gamma - 1), infinite where a
// confident logit saturates p_t to 1 in float and gamma < 1: 0 * inf gives NaN gradients (a gamma-0.5 RetinaNet
// stopped at iteration ~35). Here 1 - p_t = t sigmoid(-x) + (1 - t) sigmoid(x), so
// log(1 - p_t) = logaddexp(log t + logsigmoid(-x), log(1 - t) + logsigmoid(x)), finite with a finite derivative
// for every logit; for 0/1 targets one term is -inf and drops out exactly.
#include "nn/losses/focal_loss.h"

#include <ATen/core/Reduction.h>

namespace detlab {

at::Tensor sigmoid_focal_loss(const at::Tensor& logits, const at::Tensor& targets, const FocalLossOptions& opts) {
  TORCH_CHECK(logits.sizes() == targets.sizes(), "sigmoid_focal_loss: logits ", logits.sizes(), " and targets ",
              targets.sizes(), " must have the same shape");
  const at::Tensor ce = at::binary_cross_entropy_with_logits(logits, targets, {}, {}, at::Reduction::None);
  at::Tensor loss = ce;
  if (opts.gamma != 0) {
    const at::Tensor log_one_minus_p_t = at::logaddexp(at::log(targets) + at::log_sigmoid(-logits),
                                                       at::log1p(-targets) + at::log_sigmoid(logits));
    loss = ce * at::exp(opts.gamma * log_one_minus_p_t);
  }
  if (opts.alpha >= 0) {
    const at::Tensor alpha_t = opts.alpha * targets + (1 - opts.alpha) * (1 - targets);
    loss = alpha_t * loss;
  }
  return reduce(loss, opts.reduction);
}

}  // namespace detlab
