// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Argument checks shared by the RoI ops (roi_align, roi_pool) and their backends.
#include "nn/ops/roi_args.h"

namespace detlab {

void check_roi_op_args(const char* op, const at::Tensor& input, const at::Tensor& rois, int64_t output_height,
                       int64_t output_width) {
  TORCH_CHECK(input.defined() && rois.defined(), op, ": input and rois must be defined tensors");
  TORCH_CHECK(input.dim() == 4, op, ": input must be N x C x H x W, got ", input.sizes());
  TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5, op, ": rois must be K x 5 (batch_index, x1, y1, x2, y2), got ",
              rois.sizes());
  TORCH_CHECK(at::isFloatingType(input.scalar_type()), op, ": input must be floating point, got ", input.scalar_type());
  TORCH_CHECK(input.scalar_type() == rois.scalar_type(), op, ": input and rois must have the same dtype, got ",
              input.scalar_type(), " and ", rois.scalar_type());
  TORCH_CHECK(input.device() == rois.device(), op, ": input and rois must be on the same device, got ", input.device(),
              " and ", rois.device());
  TORCH_CHECK(output_height > 0 && output_width > 0, op, ": output size must be positive, got ", output_height, " x ",
              output_width);
}

bool use_channels_last(const at::Tensor& input, int64_t points, RoiLayout layout) {
  if (layout != RoiLayout::kAuto) return layout == RoiLayout::kChannelsLast;
  if (input.size(1) == 1) return false;
  if (input.is_contiguous(at::MemoryFormat::ChannelsLast) && !input.is_contiguous()) return true;
  return points >= input.size(0) * input.size(2) * input.size(3);
}

void check_roi_batch_indices(const char* op, const at::Tensor& rois, int64_t batch_size) {
  if (rois.size(0) == 0) return;
  const auto batch = rois.select(1, 0);
  const double lo = batch.min().item<double>();
  const double hi = batch.max().item<double>();
  TORCH_CHECK(lo >= 0 && hi < static_cast<double>(batch_size), op, ": RoI batch indices must lie in [0, ", batch_size,
              "), got [", lo, ", ", hi, "]");
}

}  // namespace detlab
