// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Argument checks and the feature-map layout choice shared by the RoI ops (roi_align, roi_pool).
#pragma once

#include <torch/types.h>

namespace detlab {

/// Memory layout a CPU RoI kernel reads the feature map in. kAuto converts to channels-last when the RoIs read
/// more points than the map holds (the conversion then pays for itself: the inner loops run over contiguous
/// channels and vectorise); the explicit values exist for the tests.
enum class RoiLayout { kAuto, kChannelsFirst, kChannelsLast };

/// The layout kAuto resolves to for `input` when the RoIs read `points` positions of one channel in total.
bool use_channels_last(const at::Tensor& input, int64_t points, RoiLayout layout);

/// Checks the `requires` clause of the RoI ops: input N x C x H x W floating point, rois K x 5 of the same dtype
/// and device, positive output sizes. Throws c10::Error (TORCH_CHECK) with the offending values.
void check_roi_op_args(const char* op, const at::Tensor& input, const at::Tensor& rois, int64_t output_height,
                       int64_t output_width);

/// Checks 0 <= batch_index < N for every RoI (reads rois on the host; the CPU kernels call it, the generic
/// paths rely on index_select's own bounds check to avoid a device sync).
void check_roi_batch_indices(const char* op, const at::Tensor& rois, int64_t batch_size);

}  // namespace detlab
