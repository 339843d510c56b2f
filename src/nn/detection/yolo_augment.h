// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// YOLO v1's training augmentation: random scaling and translation of each image and its boxes (on tensors).
#pragma once

#include <torch/types.h>

#include <vector>

#include "nn/detection/detection_model.h"

namespace detlab {

/// Redmon et al. 2016, section 2.2: "random scaling and translations of up to 20% of the original image size".
struct ScaleTranslateOptions {
  double scale = 0.2;        // zoom factor drawn uniformly from [1 - scale, 1 + scale]; 0: off
  double translate = 0.2;    // shift drawn uniformly from [-translate, translate] x the image width / height; 0: off
  double min_visible = 0.5;  // a box keeps its label when at least this fraction of it stays inside the image
  bool enabled() const { return scale > 0 || translate > 0; }
};

/// One image's content scaled by s about its centre and shifted by (dx, dy) pixels: the output pixel at u shows the
/// input at (u - c - d) / s + c, c the centre (bilinear, zeros outside: the mean colour after normalization).
/// requires: image 3 x h x w; s > 0.  ensures: 3 x h x w.
at::Tensor scale_translate_image(const at::Tensor& image, double s, double dx, double dy);

/// The boxes under the same map (u' = s (u - c) + c + d), clipped to the h x w image; boxes with less than
/// min_visible of their area inside, or under 1 px a side after clipping, are dropped with their labels.
NetTarget scale_translate_target(const NetTarget& target, double s, double dx, double dy, int64_t height,
                                 int64_t width, double min_visible);

/// Applies a random (s, dx, dy) per image, drawn from LibTorch's default generator (so the training engine's seed
/// and checkpoints cover it), to the top-left sizes[i] region of each image and to its targets.
/// requires: images N x 3 x H x W; sizes and targets of size N.  ensures: a new tensor; the inputs are not changed.
std::pair<at::Tensor, std::vector<NetTarget>> random_scale_translate(const at::Tensor& images,
                                                                      const std::vector<ImageSize>& sizes,
                                                                      const std::vector<NetTarget>& targets,
                                                                      const ScaleTranslateOptions& opts);

}  // namespace detlab
