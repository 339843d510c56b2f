// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Generalized IoU loss (Rezatofighi et al. 2019), torchvision.ops.generalized_box_iou_loss semantics.
#pragma once

#include <torch/types.h>

#include "nn/losses/reduction.h"

namespace detlab {

/// Keeps the IoU and enclosing-area ratios finite for degenerate boxes (torchvision's default eps).
constexpr double kGiouLossEps = 1e-7;

/// loss = 1 - GIoU(b1, b2) per box pair (matched rows, not pairwise), in [0, 2].
///   requires: boxes1, boxes2 of the same shape ... x 4 (x1, y1, x2, y2), x1 <= x2 and y1 <= y2.
///   ensures:  ... losses reduced as asked (mean of no boxes is 0, as torchvision); differentiable in both.
at::Tensor generalized_box_iou_loss(const at::Tensor& boxes1, const at::Tensor& boxes2,
                                    Reduction reduction = Reduction::kNone, double eps = kGiouLossEps);

}  // namespace detlab
