// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Naive O(N^2)-per-step reference implementations of the NMS family, written for clarity, not speed.
#pragma once

#include <cmath>
#include <vector>

#include "core/box_ops.h"
#include "core/nms.h"

namespace detlab::reference {

// Index of the highest score among candidates still alive; ties go to the lower index.
inline int argmax_alive(const std::vector<float>& scores, const std::vector<bool>& alive) {
  int best = -1;
  for (size_t i = 0; i < scores.size(); ++i)
    if (alive[i] && (best < 0 || scores[i] > scores[best])) best = static_cast<int>(i);
  return best;
}

inline std::vector<int> nms(const Boxes& boxes, const std::vector<float>& scores, float iou_threshold) {
  std::vector<bool> alive(boxes.size(), true);
  std::vector<int> keep;
  for (int best = argmax_alive(scores, alive); best >= 0; best = argmax_alive(scores, alive)) {
    keep.push_back(best);
    alive[best] = false;
    for (size_t j = 0; j < boxes.size(); ++j)
      if (alive[j] && iou(boxes[best], boxes[j]) > iou_threshold) alive[j] = false;
  }
  return keep;
}

inline std::vector<int> batched_nms(const Boxes& boxes, const std::vector<float>& scores,
                                    const std::vector<int>& labels, float iou_threshold) {
  std::vector<bool> alive(boxes.size(), true);
  std::vector<int> keep;
  for (int best = argmax_alive(scores, alive); best >= 0; best = argmax_alive(scores, alive)) {
    keep.push_back(best);
    alive[best] = false;
    for (size_t j = 0; j < boxes.size(); ++j)
      if (alive[j] && labels[j] == labels[best] && iou(boxes[best], boxes[j]) > iou_threshold) alive[j] = false;
  }
  return keep;
}

inline std::vector<ScoredIndex> soft_nms(const Boxes& boxes, std::vector<float> scores, const SoftNmsOptions& o) {
  std::vector<bool> alive(boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) alive[i] = scores[i] >= o.score_threshold;
  std::vector<ScoredIndex> out;
  for (int best = argmax_alive(scores, alive); best >= 0; best = argmax_alive(scores, alive)) {
    out.push_back({best, scores[best]});
    alive[best] = false;
    for (size_t j = 0; j < boxes.size(); ++j) {
      if (!alive[j]) continue;
      const float ov = iou(boxes[best], boxes[j]);
      float weight = 1.f;
      if (o.method == SoftNmsOptions::Method::kLinear)
        weight = ov > o.iou_threshold ? 1.f - ov : 1.f;
      else if (ov > 0.f)
        weight = std::exp(-(ov * ov) / o.sigma);
      scores[j] *= weight;
      if (scores[j] < o.score_threshold) alive[j] = false;
    }
  }
  return out;
}

}  // namespace detlab::reference
