// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SSD's training augmentation (Liu et al. 2016, section 2.2 "Data augmentation", and the "zoom out" expansion of
// section 3.6): photometric distortion, random expansion and the IoU-constrained random crop, on the normalized
// batch tensor (the loader's horizontal flip completes the recipe).
#pragma once

#include <torch/types.h>

#include <array>
#include <vector>

#include "nn/detection/detection_model.h"

namespace detlab {

struct SsdAugmentOptions {
  // Brightness x [0.875, 1.125], contrast and saturation x [0.5, 1.5], hue +- 0.05 turn (18 degrees), each with
  // probability 1/2, contrast before or after the colour steps (torchvision's RandomPhotometricDistort; its
  // channel permutation is left out).
  bool photometric = false;
  // Zoom out with probability 1/2: the image at a random place in a canvas `expand` x its sides at most, the rest
  // the mean colour, all resized back to the input (small objects become smaller). 1: off; the paper uses 4.
  double expand = 1.0;
  // The paper's patch sampler: one of {whole image, a patch of IoU >= 0.1, 0.3, 0.5, 0.7, 0.9 with some object,
  // any patch}; sides in [min_scale, 1] of the (expanded) image, aspect ratio in [1/2, 2]; up to 50 tries, then
  // the whole image. Objects whose centre falls in the patch stay, clipped to it; the patch fills the input.
  bool crop = false;
  double min_scale = 0.3;
  // The input normalization, so that colours are changed in [0, 1] RGB (the parser copies the detector's).
  std::array<float, 3> mean{0.5f, 0.5f, 0.5f};
  std::array<float, 3> std{0.5f, 0.5f, 0.5f};
  bool enabled() const { return photometric || expand > 1.0 || crop; }
};

/// A window in input pixels, [x0, x1] x [y0, y1]; it may reach outside the image (the expansion's canvas).
struct PixelWindow {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  double width() const { return x1 - x0; }
  double height() const { return y1 - y0; }
};

/// The window stretched over the whole image: the output pixel u shows the input at x0 + u (x1 - x0) / w (and
/// likewise in y; bilinear, zeros outside the image: the mean colour after normalization).
/// requires: image 3 x h x w; a window of positive size.  ensures: 3 x h x w.
at::Tensor resample_window(const at::Tensor& image, const PixelWindow& window);

/// The boxes under the same map, u' = (u - x0) w / (x1 - x0). keep_centre_inside: a box stays only when its
/// centre lies in the window (the paper's rule for crops); every kept box is clipped to the image, and boxes
/// left without area are dropped with their labels.
NetTarget window_target(const NetTarget& target, const PixelWindow& window, int64_t height, int64_t width,
                        bool keep_centre_inside);

/// Uniform numbers in [0, 1) drawn in blocks from LibTorch's default CPU generator (seeded by the training engine
/// and saved in its checkpoints), so that an augmentation repeats under the same seed.
class UniformDraws {
 public:
  double next();

 private:
  at::Tensor block_;
  int64_t used_ = 0;
};

/// The canvas (expansion) and patch (crop) of one h x w image with the given boxes, as one window; the whole
/// image when both are off. keep_centre_inside tells window_target whether a crop was taken.
PixelWindow sample_ssd_window(const at::Tensor& boxes, int64_t height, int64_t width, const SsdAugmentOptions& o,
                              UniformDraws& draws, bool* keep_centre_inside);

/// The photometric distortion of one normalized 3 x h x w image (a new tensor, values kept in [0, 1] RGB before
/// normalizing back).
at::Tensor photometric_distort(const at::Tensor& image, const SsdAugmentOptions& o, UniformDraws& draws);

/// Applies photometric distortion, expansion and crop per image to the top-left sizes[i] region of each image
/// and to its targets. requires: images N x 3 x H x W; sizes and targets of size N.  ensures: a new tensor; the
/// inputs are not changed; an image that had objects keeps at least one.
std::pair<at::Tensor, std::vector<NetTarget>> random_ssd_augment(const at::Tensor& images,
                                                                 const std::vector<ImageSize>& sizes,
                                                                 const std::vector<NetTarget>& targets,
                                                                 const SsdAugmentOptions& options);

}  // namespace detlab
