// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Argument checks shared by the RoI ops (roi_align, roi_pool) and their backends.
#pragma once

#include <torch/types.h>

namespace detlab::ops {

/// Checks the `requires` clause of the RoI ops: input N x C x H x W floating point, rois K x 5 of the same dtype
/// and device, positive output sizes. Throws c10::Error (TORCH_CHECK) with the offending values.
void check_roi_op_args(const char* op, const at::Tensor& input, const at::Tensor& rois, int64_t output_height,
                       int64_t output_width);

/// Checks 0 <= batch_index < N for every RoI (reads rois on the host; the CPU kernels call it, the generic
/// paths rely on index_select's own bounds check to avoid a device sync).
void check_roi_batch_indices(const char* op, const at::Tensor& rois, int64_t batch_size);

}  // namespace detlab::ops
