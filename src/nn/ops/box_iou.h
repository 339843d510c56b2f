// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Pairwise IoU and generalized IoU matrices of two box sets (torchvision.ops.box_iou / generalized_box_iou).
#pragma once

#include <torch/types.h>

namespace detlab {

// Boxes are (x1, y1, x2, y2) with x1 <= x2, y1 <= y2 (continuous coordinates, no "+1").
// Integer boxes are kept integer until the final division and half precision is upcast to float (torchvision's
// _upcast), so results have the dtype torchvision gives.

/// requires: boxes1 N x 4, boxes2 M x 4, same device.
/// ensures:  N x M matrix, iou[i][j] = |b1_i ∩ b2_j| / |b1_i ∪ b2_j| (NaN where both boxes are empty, as torchvision).
at::Tensor box_iou_cpu(const at::Tensor& boxes1, const at::Tensor& boxes2);
at::Tensor box_iou_generic(const at::Tensor& boxes1, const at::Tensor& boxes2);

/// Generalized IoU (Rezatofighi et al. 2019): IoU - |C \ (A ∪ B)| / |C|, C the smallest enclosing box; in [-1, 1].
at::Tensor generalized_box_iou_cpu(const at::Tensor& boxes1, const at::Tensor& boxes2);
at::Tensor generalized_box_iou_generic(const at::Tensor& boxes1, const at::Tensor& boxes2);

/// True when the CPU kernel applies: CPU float/double tensors and no gradient requested (the kernel has no
/// backward; the generic path is differentiable through ATen).
bool box_iou_uses_cpu_kernel(const at::Tensor& boxes1, const at::Tensor& boxes2);

inline at::Tensor box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  return box_iou_uses_cpu_kernel(boxes1, boxes2) ? box_iou_cpu(boxes1, boxes2) : box_iou_generic(boxes1, boxes2);
}
inline at::Tensor generalized_box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  return box_iou_uses_cpu_kernel(boxes1, boxes2) ? generalized_box_iou_cpu(boxes1, boxes2)
                                                 : generalized_box_iou_generic(boxes1, boxes2);
}

}  // namespace detlab
