// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Elementwise box utilities on tensors (torchvision.ops.boxes): area, clipping, small-box removal, format conversion.
#pragma once

#include <torch/types.h>

#include <string_view>

namespace detlab {

/// requires: boxes K x 4 (x1, y1, x2, y2).  ensures: K areas (x2 - x1) * (y2 - y1); half upcast to float.
at::Tensor box_area(const at::Tensor& boxes);

/// requires: boxes ... x 4 (x1, y1, x2, y2); height, width >= 0.
/// ensures:  same shape; x clamped to [0, width], y to [0, height].
at::Tensor clip_boxes_to_image(const at::Tensor& boxes, int64_t height, int64_t width);

/// requires: boxes K x 4.  ensures: int64 indices (ascending) of the boxes with both sides >= min_size.
at::Tensor remove_small_boxes(const at::Tensor& boxes, double min_size);

/// Converts between "xyxy" (corners), "xywh" (corner + size) and "cxcywh" (centre + size).
/// requires: boxes ... x 4; formats among those three (else c10::Error).
at::Tensor box_convert(const at::Tensor& boxes, std::string_view in_fmt, std::string_view out_fmt);

}  // namespace detlab
