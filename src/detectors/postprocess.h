// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Detection post-processing shared by every family: box decoding, score threshold, clip, per-class NMS, top-k.
#pragma once

#include <array>

#include "config/config.h"
#include "core/nms.h"
#include "core/types.h"
#include "pipeline/stages.h"

namespace detlab {

struct PostprocessOptions {
  float nms_iou = 0.5f;         // per-class NMS IoU threshold (torchvision / detectron2 test-time default)
  float score_thresh = 0.05f;   // candidates must score strictly above it (detectron2 SCORE_THRESH_TEST)
  int max_per_image = 100;      // COCO scores at most 100 detections per image (maxDets)
  bool soft_nms = false;        // Gaussian / linear soft-NMS (Bodla et al. 2017) instead of greedy NMS
  SoftNmsOptions soft;          // used when soft_nms
  std::array<float, 4> box_coder_weights{1.f, 1.f, 1.f, 1.f};  // see pipeline/host_box_coder.h
  float min_size = 0.01f;       // boxes narrower / lower than this (pixels) after clipping are dropped (torchvision)
  /// Per class, only the best this many candidates enter NMS (0 = all). Sliding windows leave thousands of
  /// low-scoring candidates that cost O(n^2) NMS time and never reach the top max_per_image.
  int pre_nms_top_k = 0;
};

/// Keys: nms_iou, score_thresh, max_per_image, min_size, pre_nms_top_k, box_coder_weights [4],
/// soft_nms: false | true | {method: gaussian|linear, sigma, iou_threshold, score_threshold}.
PostprocessOptions parse_postprocess(const Config& node);

/// Staged detectors: row i of scores belongs to proposals[i]. For every class c (column c + 1 of scores)
/// whose score > score_thresh, the box is proposals[i] decoded with deltas(i, 4c .. 4c+3) when deltas are
/// present (else the proposal box), then clipped to the image; boxes smaller than min_size are dropped;
/// the pre_nms_top_k best per class, per-class NMS (or soft-NMS), the max_per_image best.
/// requires: scores.rows == proposals.size(), scores CV_32F with >= 2 columns; deltas empty or
///           rows x 4 (cols - 1) CV_32F.
/// ensures: sorted by score (desc, ties: earlier candidate first); clipped; at most max_per_image; labels in
///          [0, scores.cols - 1).
Detections postprocess(const Proposals& proposals, const RegionScores& scores, int width, int height,
                       const PostprocessOptions& opts);

/// The box of the staged candidate (proposal i, class c) before clipping: proposals[i] decoded with
/// deltas(i, 4c .. 4c+3) when deltas are present and the proposal is not empty, else the proposal box. What
/// postprocess() thresholds, clips and suppresses; explainers use it to find a detection's proposal.
/// requires: i < proposals.size(); deltas empty or rows x 4 (cols - 1) CV_32F, c < cols - 1 of scores.
Box staged_candidate_box(const Proposals& proposals, const RegionScores& scores, int i, int c,
                         const PostprocessOptions& opts);

/// Dense / set detectors: candidates already decoded. Same threshold, clip, NMS and top-k as above.
Detections postprocess(const Detections& candidates, int width, int height, const PostprocessOptions& opts);

}  // namespace detlab
