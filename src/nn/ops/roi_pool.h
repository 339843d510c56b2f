// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoI max pooling (Girshick 2015, Fast R-CNN) with torchvision.ops.roi_pool semantics: backends and device switch.
#pragma once

#include <torch/types.h>

#include <tuple>

#include "nn/ops/roi_args.h"

namespace detlab {

struct RoiPoolOptions {
  int64_t output_height = 7;  // Fast R-CNN pools VGG16 conv5_3 to 7x7 (the fc6 input size)
  int64_t output_width = 7;
  double spatial_scale = 1.0;  // feature-map pixels per input pixel, e.g. 1/16 for VGG16 conv5_3
};

/// Max pooling over a quantised grid: RoI corners are rounded (half away from zero) to feature-map pixels, the
/// RoI is split into output_height x output_width bins of floor/ceil-quantised extent, each bin takes its maximum.
///   requires: input N x C x H x W, float or double; rois K x 5 (batch_index, x1, y1, x2, y2) in input-image
///             coordinates, same dtype and device as input; 0 <= batch_index < N; output sizes > 0.
///   ensures:  K x C x output_height x output_width; an empty bin (outside the map) is 0; differentiable with
///             respect to input (the gradient goes to the arg-max pixel of each bin). Thread safety: pure function.
at::Tensor roi_pool_cpu(const at::Tensor& input, const at::Tensor& rois, const RoiPoolOptions& opts);
/// The same op in ATen tensor ops (any device; autograd by ATen); the naive reference for the CPU kernel.
at::Tensor roi_pool_generic(const at::Tensor& input, const at::Tensor& rois, const RoiPoolOptions& opts);

/// The raw CPU forward kernel: (output, argmax), argmax K x C x out_h x out_w int32 holding h * W + w of the
/// selected pixel, or -1 for an empty bin (torchvision's second output). No autograd.
std::tuple<at::Tensor, at::Tensor> roi_pool_forward_cpu(const at::Tensor& input, const at::Tensor& rois,
                                                        const RoiPoolOptions& opts,
                                                        RoiLayout layout = RoiLayout::kAuto);

/// Device switch: the CPU kernel for CPU tensors, the generic path elsewhere.
inline at::Tensor roi_pool(const at::Tensor& input, const at::Tensor& rois, const RoiPoolOptions& opts) {
  if (input.device().is_cpu() && (input.scalar_type() == at::kFloat || input.scalar_type() == at::kDouble))
    return roi_pool_cpu(input, rois, opts);
  return roi_pool_generic(input, rois, opts);
}

}  // namespace detlab
