// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Test support: the tiny experiment config that trains in seconds (HOG+SVM on 24 synthetic 128 x 128 images),
// for tests of the harness rather than of a detector.
#pragma once

namespace detlab::testing {

/// Two shape classes; the SVMs mine one round. Override what a test needs with --set / overrides.
inline constexpr const char* kTinyHogSvm = R"(
name: tiny
dataset: {type: synthetic, num_images: 24, width: 128, height: 128, min_size: 28, max_size: 56, max_aspect: 1.2,
          classes: [ellipse, cross], seed: 2}
detector:
  type: staged
  proposals: {type: sliding_window, windows: auto, window_area: 1024}
  features: {type: hog, backend: dlib}
  classifier: {type: linear_svm, C: 1, mining: {rounds: 1}}
  postprocess: {score_thresh: 0.2, pre_nms_top_k: 500, nms_iou: 0.4}
eval: {protocols: [coco, voc07]}
)";

}  // namespace detlab::testing
