// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Smooth L1 (Huber-like) box-regression loss (Girshick 2015), torch.nn.functional.smooth_l1_loss semantics.
#pragma once

#include <torch/types.h>

#include "nn/losses/reduction.h"

namespace detlab {

/// beta of torchvision's R-CNN heads: RPN and box head use smooth L1 with beta = 1/9 (Detectron's setting),
/// summed over the sampled elements and divided by their count.
constexpr double kRcnnSmoothL1Beta = 1.0 / 9.0;

/// l(x) = 0.5 x^2 / beta if |x| < beta, else |x| - 0.5 beta, x = input - target; beta = 0 is the L1 loss.
///   requires: input and target of the same shape; beta >= 0.
///   ensures:  elementwise losses reduced as asked; differentiable in input (and target).
at::Tensor smooth_l1_loss(const at::Tensor& input, const at::Tensor& target, double beta = 1.0,
                          Reduction reduction = Reduction::kMean);

/// The legacy det_utils.smooth_l1_loss form (maskrcnn-benchmark): beta defaults to 1/9 and size_average chooses
/// mean (true) or sum (false); written with its own where(n < beta, 0.5 n^2 / beta, n - 0.5 beta) expression.
at::Tensor det_smooth_l1_loss(const at::Tensor& input, const at::Tensor& target, double beta = kRcnnSmoothL1Beta,
                              bool size_average = true);

}  // namespace detlab
