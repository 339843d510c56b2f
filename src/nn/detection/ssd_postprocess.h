// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SSD inference post-processing: softmax, per-class score threshold and top-k, batched NMS (torchvision's).
#pragma once

#include <torch/types.h>

#include <vector>

#include "nn/detection/detection_model.h"
#include "nn/modeling/box_coder.h"

namespace detlab {

struct SsdPostprocessOptions {
  double score_thresh = 0.01;       // torchvision SSD's default (SSDlite: 0.001)
  double nms_thresh = 0.45;         // paper, section 3 ("NMS with jaccard overlap of 0.45 per class")
  int64_t topk_candidates = 400;    // per class before NMS (SSDlite: 300)
  int64_t detections_per_img = 200; // after NMS (SSDlite: 300)
};

/// torchvision's SSD.postprocess_detections for one batch: per image, softmax over the class columns, boxes
/// decoded from the default boxes and clipped to the image's size; for each class c >= 1 the boxes with score
/// > score_thresh, at most topk_candidates of them by score; then NMS per class over all of them and the first
/// detections_per_img by score.
/// requires: cls_logits N x A x C, bbox_regression N x A x 4, anchors A x 4, image_sizes.size() == N.
/// ensures:  N results, scores descending; labels in [1, C) (torchvision's: column index, 0 = background).
/// The CPU float path selects candidates in one pass over the scores; other devices run torchvision's loop
/// over classes (ssd_postprocess_reference). Both give the same detections (ties in score: lower anchor first).
std::vector<NetDetections> ssd_postprocess(const torch::Tensor& cls_logits, const torch::Tensor& bbox_regression,
                                           const torch::Tensor& anchors, const std::vector<ImageSize>& image_sizes,
                                           const BoxCoder& coder, const SsdPostprocessOptions& opts);

/// The literal port of torchvision's loop (one threshold, top-k and concatenation per class), on any device.
std::vector<NetDetections> ssd_postprocess_reference(const torch::Tensor& cls_logits,
                                                     const torch::Tensor& bbox_regression,
                                                     const torch::Tensor& anchors,
                                                     const std::vector<ImageSize>& image_sizes, const BoxCoder& coder,
                                                     const SsdPostprocessOptions& opts);

}  // namespace detlab
