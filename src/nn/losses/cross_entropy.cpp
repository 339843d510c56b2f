// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Softmax cross-entropy loss through ATen's cross_entropy_loss (what torch.nn.functional.cross_entropy calls).
#include "nn/losses/cross_entropy.h"

namespace detlab {

at::Tensor cross_entropy_loss(const at::Tensor& logits, const at::Tensor& target, const CrossEntropyOptions& opts) {
  TORCH_CHECK(logits.dim() >= 1, "cross_entropy_loss: logits must have a class dimension, got ", logits.sizes());
  TORCH_CHECK(opts.label_smoothing >= 0 && opts.label_smoothing <= 1,
              "cross_entropy_loss: label_smoothing must lie in [0, 1], got ", opts.label_smoothing);
  const c10::optional<at::Tensor> weight =
      opts.weight.defined() ? c10::optional<at::Tensor>(opts.weight) : c10::nullopt;
  return at::cross_entropy_loss(logits, target, weight, to_aten(opts.reduction), opts.ignore_index,
                                opts.label_smoothing);
}

}  // namespace detlab
