// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Image preprocessing shared by training and inference: resize, normalize, pad; box mapping both ways.
#pragma once

#include <array>
#include <vector>

#include <opencv2/core/mat.hpp>
#include <torch/types.h>

#include "tensor/batch.h"

namespace detlab {

class Config;

/// How images become network input. A detector owns one (Trainable::input_transform()) and uses it for both
/// training and inference, so that the two see the same pixels.
///
/// Resize, as torchvision's GeneralizedRCNNTransform: scale = min(min_size / shorter, max_size / longer),
/// output size = floor(size * scale), boxes scaled by output / input per axis. With fixed_width and
/// fixed_height > 0 the image is resized to exactly that size instead (aspect not kept; YOLO / SSD style).
/// With min_size <= 0 and no fixed size the image keeps its size.
/// Normalization: BGR -> RGB (to_rgb), [0, 1], then (x - mean) / std per RGB channel (torchvision).
struct TransformOptions {
  int min_size = 800;   // torchvision detection defaults (Faster R-CNN, RetinaNet, ...)
  int max_size = 1333;
  int fixed_width = 0;
  int fixed_height = 0;
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};  // ImageNet statistics, RGB (torchvision weights)
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
  bool to_rgb = true;
  int size_divisibility = 32;  // padded H and W are multiples of this (FPN / stride-32 backbones); <= 1: none
};

/// Keys: min_size, max_size, fixed_size (int or [width, height]), mean, std, to_rgb, size_divisibility.
/// InputError naming the dotted key on a bad value.
TransformOptions parse_transform(const Config& node);

/// Output size and per-axis scale of one resize.
struct ResizePlan {
  int width = 0, height = 0;
  float scale_x = 1.f, scale_y = 1.f;  // width / orig_width, height / orig_height
};

/// requires: orig_width, orig_height > 0; jitter > 0 (multiplies min_size / max_size or the fixed size).
/// ensures: width, height >= 1.
ResizePlan plan_resize(int orig_width, int orig_height, const TransformOptions& opts, double jitter = 1.0);

/// Padded extent: size rounded up to a multiple of divisibility (unchanged when divisibility <= 1).
int64_t padded_size(int64_t size, int divisibility);

/// Normalizes, resizes (bilinear, half-pixel centres, no antialiasing: torch's interpolate with
/// align_corners=false) and optionally mirrors one image, writing channel-major floats into the top-left
/// plan.height x plan.width corner of a 3 x dst_height x dst_width buffer (other pixels are not touched).
/// requires: bgr is CV_8UC3; plan.width <= dst_width; plan.height <= dst_height.
/// thread safety: may run concurrently on different buffers.
void preprocess_into(const cv::Mat& bgr, const ResizePlan& plan, bool flip, const TransformOptions& opts,
                     float* dst, int64_t dst_height, int64_t dst_width);

/// One image as a 3 x plan.height x plan.width float tensor (no padding).
torch::Tensor preprocess_image(const cv::Mat& bgr, const ResizePlan& plan, bool flip, const TransformOptions& opts);

/// Inference batch: each image resized by plan_resize (no jitter, no flip), normalized, zero-padded to a
/// common size divisible by size_divisibility. targets stay empty; meta[i].index = i.
/// requires: images non-empty, each CV_8UC3.
Batch make_eval_batch(const std::vector<cv::Mat>& bgr_images, const TransformOptions& opts);

/// Boxes (K x 4, original pixels) -> network coordinates of the image described by meta (scale, then mirror).
torch::Tensor to_network(const torch::Tensor& boxes, const ImageMeta& meta);
/// Inverse of to_network: network coordinates -> original pixels, clipped to the original image.
torch::Tensor to_original(const torch::Tensor& boxes, const ImageMeta& meta);

}  // namespace detlab
