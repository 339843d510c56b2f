// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The NMS family on host boxes: greedy NMS (class-agnostic and class-aware "batched"), soft-NMS, top-k.
#pragma once

#include <vector>

#include "core/types.h"

namespace detlab {

// Determinism: every function here orders candidates by score, descending, and breaks ties by the lower
// input index first (a stable sort). Results therefore never depend on the sort implementation or threads.
// A box is suppressed when its IoU with a kept box is strictly greater than iou_threshold (torchvision).

/// Greedy NMS, class-agnostic.
/// requires: boxes.size() == scores.size().
/// ensures:  indices of kept boxes, in decreasing score order (ties: lower index first).
std::vector<int> nms(const Boxes& boxes, const std::vector<float>& scores, float iou_threshold);

/// Greedy NMS run independently per label ("batched" NMS); same ordering as nms().
/// requires: boxes, scores and labels have the same size.
std::vector<int> batched_nms(const Boxes& boxes, const std::vector<float>& scores, const std::vector<int>& labels,
                             float iou_threshold);

/// Convenience overloads on detections: class-agnostic and class-aware.
std::vector<int> nms(const Detections& dets, float iou_threshold);
std::vector<int> batched_nms(const Detections& dets, float iou_threshold);

struct SoftNmsOptions {
  enum class Method { kLinear, kGaussian };
  Method method = Method::kGaussian;  // Bodla et al. 2017 report Gaussian slightly better on COCO
  float sigma = 0.5f;                 // Gaussian decay exp(-iou^2 / sigma); 0.5 as in the paper
  float iou_threshold = 0.3f;         // linear decay (1 - iou) applies only above this overlap (paper: Nt)
  float score_threshold = 0.001f;     // boxes whose decayed score falls below this are dropped (paper's code)
};

struct ScoredIndex {
  int index = -1;
  float score = 0.f;
};

/// Soft-NMS (Bodla et al. 2017): repeatedly selects the highest current score (ties: lower index) and decays
/// the scores of the remaining boxes by their IoU with it.
/// ensures: selected boxes in selection order with their decayed scores; every score >= score_threshold.
std::vector<ScoredIndex> soft_nms(const Boxes& boxes, const std::vector<float>& scores, const SoftNmsOptions& opts);
/// Soft-NMS on detections; class_aware runs it per label. Returns detections with decayed scores, sorted.
Detections soft_nms(const Detections& dets, const SoftNmsOptions& opts, bool class_aware = true);

/// Indices of the k highest scores, in decreasing score order (ties: lower index first). k < 0 keeps all.
std::vector<int> top_k(const std::vector<float>& scores, int k);
/// The k highest-scoring detections, sorted by score (ties: earlier first). k < 0 keeps all.
Detections top_k(const Detections& dets, int k);

/// Indices of scores sorted by decreasing score, ties by lower index (the order used throughout).
std::vector<int> sort_by_score(const std::vector<float>& scores);

}  // namespace detlab
