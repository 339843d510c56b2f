// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Smooth L1 loss: ATen's kernel (as torch.nn.functional calls it) and the legacy det_utils expression.
#include "nn/losses/smooth_l1.h"

namespace detlab {

at::Tensor smooth_l1_loss(const at::Tensor& input, const at::Tensor& target, double beta, Reduction reduction) {
  TORCH_CHECK(input.sizes() == target.sizes(), "smooth_l1_loss: input ", input.sizes(), " and target ", target.sizes(),
              " must have the same shape");
  TORCH_CHECK(beta >= 0, "smooth_l1_loss: beta must be >= 0, got ", beta);
  if (beta == 0.0) return at::l1_loss(input, target, to_aten(reduction));  // torch.nn.functional does the same
  return at::smooth_l1_loss(input, target, to_aten(reduction), beta);
}

at::Tensor det_smooth_l1_loss(const at::Tensor& input, const at::Tensor& target, double beta, bool size_average) {
  TORCH_CHECK(input.sizes() == target.sizes(), "det_smooth_l1_loss: input ", input.sizes(), " and target ",
              target.sizes(), " must have the same shape");
  TORCH_CHECK(beta > 0, "det_smooth_l1_loss: beta must be > 0, got ", beta);
  const at::Tensor n = at::abs(input - target);
  const at::Tensor loss = at::where(n < beta, 0.5 * n.pow(2) / beta, n - 0.5 * beta);
  return size_average ? loss.mean() : loss.sum();
}

}  // namespace detlab
