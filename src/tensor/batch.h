// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Batch: what the training loader feeds a model (padded image tensor, per-image targets, resize bookkeeping).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace detlab {

/// Ground truth of one image, in the coordinates of the batch tensor (after resize and flip, before padding).
struct TargetBoxes {
  torch::Tensor boxes;   // K x 4 float32, x1 y1 x2 y2, continuous pixels (core/types.h convention)
  torch::Tensor labels;  // K int64 in [0, num_classes)
};

/// How one image of a batch relates to its source image. Network coords = original coords * scale
/// (then mirrored when flipped: x' = width - x); see to_original() in tensor/transform.h for the inverse.
struct ImageMeta {
  int index = -1;         // index into the Dataset's images (-1 for images that did not come from a Dataset)
  int64_t image_id = 0;   // ImageRecord::id
  int orig_width = 0;     // source image size in pixels
  int orig_height = 0;
  float scale_x = 1.f;    // width / orig_width; differs from scale_y by the rounding of the output size
  float scale_y = 1.f;    // height / orig_height
  bool flipped = false;   // mirrored horizontally after the resize
  int width = 0;          // resized size, before padding: pixels outside [0,width) x [0,height) are padding
  int height = 0;
};

/// A batch of images (normalized, zero-padded bottom/right to a common size) with their targets.
/// Invariants: images is N x 3 x H x W float32; meta.size() == N; targets.size() == N for training batches
/// and 0 for inference batches; meta[i].width <= W and meta[i].height <= H.
struct Batch {
  torch::Tensor images;
  std::vector<TargetBoxes> targets;
  std::vector<ImageMeta> meta;
  int64_t epoch = 0;   // position in the training stream (0 for inference batches)
  int64_t index = 0;   // batch index within the epoch

  int64_t size() const { return static_cast<int64_t>(meta.size()); }
  /// A copy with every tensor on `device` (meta copied as is).
  Batch to(const torch::Device& device, bool non_blocking = false) const;
};

}  // namespace detlab
