// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// R-CNN's region warp (cnn_crop's first step) on tensors: dilate each box by its context, resample to size x size.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace detlab {

/// Each RoI (K x 5: batch index, x1, y1, x2, y2 in the pixels of `images`) dilated so that `context` of the
/// size x size output pixels lie around the box on each side (R-CNN's p; anisotropic), then sampled bilinearly
/// at the output pixel centres (RoIAlign with one sample per bin and aligned = true: a plain image warp). Points
/// more than one pixel outside the image read 0 (the mean colour of a normalized image); boxes narrower than
/// 1 px count as 1 px.
/// requires: images N x C x H x W float; size >= 1; 0 <= context < size / 2.  ensures: K x C x size x size.
torch::Tensor warp_regions(const torch::Tensor& images, const torch::Tensor& rois, int64_t size, double context);

}  // namespace detlab
