// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoIAlign (He et al. 2017, Mask R-CNN) with torchvision.ops.roi_align semantics: options, backends, device switch.
#pragma once

#include <torch/types.h>

#include "nn/ops/roi_args.h"

namespace detlab {

struct RoiAlignOptions {
  int64_t output_height = 7;  // Faster R-CNN box head input (torchvision MultiScaleRoIAlign output_size=7)
  int64_t output_width = 7;
  double spatial_scale = 1.0;   // feature-map pixels per input pixel, e.g. 1/16 for a stride-16 map
  int64_t sampling_ratio = -1;  // samples per bin side; <= 0 is adaptive: ceil(roi_size / output_size)
  bool aligned = false;         // true: shift coordinates by -0.5 px (Detectron2); false: legacy, RoI size clamped >= 1
};

/// Bilinear RoI pooling: each output bin averages sampling_ratio^2 bilinear samples of its RoI sub-window.
///   requires: input N x C x H x W, float or double; rois K x 5 (batch_index, x1, y1, x2, y2) in input-image
///             coordinates, same dtype and device as input; 0 <= batch_index < N; output sizes > 0.
///   ensures:  K x C x output_height x output_width, same dtype and device; differentiable with respect to input
///             (rois get no gradient, as in torchvision). Thread safety: pure function.
at::Tensor roi_align_cpu(const at::Tensor& input, const at::Tensor& rois, const RoiAlignOptions& opts,
                         RoiLayout layout = RoiLayout::kAuto);  // nn/ops/cpu/roi_align_kernel.cpp
/// The same op written with ATen gather / index arithmetic: runs on any device, differentiable through ATen's
/// autograd, and serves as the naive reference for the CPU kernel.
at::Tensor roi_align_generic(const at::Tensor& input, const at::Tensor& rois, const RoiAlignOptions& opts);

/// Device switch: the CPU kernel for CPU tensors, the generic path elsewhere.
inline at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois, const RoiAlignOptions& opts) {
  if (input.device().is_cpu() && (input.scalar_type() == at::kFloat || input.scalar_type() == at::kDouble))
    return roi_align_cpu(input, rois, opts);
  return roi_align_generic(input, rois, opts);
}

}  // namespace detlab
