// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Greedy non-maximum suppression on tensors (torchvision.ops.nms / batched_nms semantics): backends and switch.
#pragma once

#include <torch/types.h>

namespace detlab {

// Semantics shared by every function here (torchvision's): candidates are visited in decreasing score order (a
// stable sort, so equal scores keep index order); a box is suppressed when its IoU with an already kept box is
// strictly greater than iou_threshold, the IoU being computed in the boxes' dtype and compared in double.

/// requires: boxes K x 4 (x1, y1, x2, y2) float or double, scores K of the same dtype and device.
/// ensures:  int64 indices of the kept boxes, in decreasing score order, on the boxes' device.
at::Tensor nms_cpu(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold);
/// The same in ATen ops: IoU masks computed on the boxes' device in row blocks, greedy pass on the host.
at::Tensor nms_generic(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold);

/// NMS run independently per category: boxes with different idxs never suppress each other.
/// requires: as nms, plus idxs K integer (any values) on the same device.
/// ensures:  int64 indices of the kept boxes, in decreasing score order (ties: lower index first). Equal to
///           torchvision.ops.batched_nms, whose coordinate-offset trick this computes exactly (no offset rounding).
at::Tensor batched_nms_cpu(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs,
                           double iou_threshold);
at::Tensor batched_nms_generic(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs,
                               double iou_threshold);

inline bool nms_uses_cpu_kernel(const at::Tensor& boxes) {
  return boxes.device().is_cpu() && (boxes.scalar_type() == at::kFloat || boxes.scalar_type() == at::kDouble);
}

/// Device switches: the CPU kernel for CPU float/double tensors, the generic path elsewhere.
inline at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  return nms_uses_cpu_kernel(boxes) ? nms_cpu(boxes, scores, iou_threshold) : nms_generic(boxes, scores, iou_threshold);
}
inline at::Tensor batched_nms(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs,
                              double iou_threshold) {
  return nms_uses_cpu_kernel(boxes) ? batched_nms_cpu(boxes, scores, idxs, iou_threshold)
                                    : batched_nms_generic(boxes, scores, idxs, iou_threshold);
}

/// Checks the `requires` clause shared by the backends (idxs may be undefined for plain nms).
void check_nms_args(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs);

/// The largest value of `dtype` (float or double) that is <= threshold: for x of that dtype,
/// x > threshold  <=>  x > nms_threshold_in(dtype, threshold), so comparisons can run in the boxes' dtype.
double nms_threshold_in(at::ScalarType dtype, double threshold);

}  // namespace detlab
