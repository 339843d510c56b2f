// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Sigmoid focal loss (Lin et al. 2017, RetinaNet), torchvision.ops.sigmoid_focal_loss semantics.
#pragma once

#include <torch/types.h>

#include "nn/losses/reduction.h"

namespace detlab {

struct FocalLossOptions {
  double alpha = 0.25;  // positive-class weight; the paper's best with gamma = 2 (Table 1a); < 0 disables it
  double gamma = 2.0;   // focusing parameter (RetinaNet paper's default)
  Reduction reduction = Reduction::kNone;  // torchvision's default
};

/// FL = alpha_t (1 - p_t)^gamma BCE(logits, targets), p = sigmoid(logits), p_t = p if target == 1 else 1 - p.
///   requires: logits and targets of the same shape, targets in [0, 1] (0/1 labels).
///   ensures:  elementwise losses reduced as asked; differentiable in logits.
at::Tensor sigmoid_focal_loss(const at::Tensor& logits, const at::Tensor& targets, const FocalLossOptions& opts = {});

}  // namespace detlab
