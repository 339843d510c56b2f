// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DETR's HungarianMatcher: one-to-one assignment of object queries to ground-truth objects per image.
#pragma once

#include <torch/types.h>

#include <vector>

namespace detlab {

/// Ground truth of one image in DETR's set-prediction form.
struct SetTarget {
  at::Tensor labels;  // T int64 in [0, K)
  at::Tensor boxes;   // T x 4 float: cx, cy, w, h normalized by the image size (DETR's target format)
};

/// Matched pairs of one image: prediction pred[k] is matched to target target[k].
struct MatchIndices {
  at::Tensor pred;    // int64 CPU, ascending query indices
  at::Tensor target;  // int64 CPU, indices into the image's targets
};

/// The paper's weights (Carion et al. 2020, section 4 and main.py): class 1, L1 5, GIoU 2.
struct HungarianMatcherOptions {
  double cost_class = 1;
  double cost_bbox = 5;
  double cost_giou = 2;
  /// Sigmoid classes without "no object" (Deformable DETR, Zhu et al. 2021): logits are Q x K and the class cost
  /// is the focal loss of a positive minus that of a negative, alpha_f (1 - p)^gamma_f (-log p) -
  /// (1 - alpha_f) p^gamma_f (-log(1 - p)), p = sigmoid of the target's logit.
  bool focal = false;
  double focal_alpha = 0.25;
  double focal_gamma = 2;
};

/// What this represents: DETR's HungarianMatcher (models/matcher.py). The cost of matching query q to target t
/// is  cost_class * (-p_q(label_t)) + cost_bbox * |b_q - b_t|_1 + cost_giou * (-GIoU(b_q, b_t)),  with p the
/// softmax over K + 1 classes (the last is "no object") and boxes in normalized cx, cy, w, h (GIoU on corners);
/// with `focal`, the focal class cost above over K sigmoid logits instead.
/// The minimum-cost one-to-one assignment (nn/modeling/hungarian.h, exact) matches min(Q, T) pairs per image;
/// every other query is a "no object" prediction. Computed without gradients.
/// thread safety: immutable.
class HungarianMatcher {
 public:
  /*  requires: the three weights >= 0, not all 0. */
  explicit HungarianMatcher(HungarianMatcherOptions opts = {});

  /*  requires: pred_logits N x Q x (K + 1) (K with focal), pred_boxes N x Q x 4 (cxcywh in [0, 1]),
                targets.size() == N.
      ensures:  N results with min(Q, T_i) pairs each. */
  std::vector<MatchIndices> operator()(const at::Tensor& pred_logits, const at::Tensor& pred_boxes,
                                       const std::vector<SetTarget>& targets) const;

  /*  One image's Q x T cost matrix (float, on the inputs' device).
      requires: logits Q x (K + 1), boxes Q x 4, target as above. */
  at::Tensor cost_matrix(const at::Tensor& logits, const at::Tensor& boxes, const SetTarget& target) const;

  const HungarianMatcherOptions& options() const { return opts_; }

 private:
  HungarianMatcherOptions opts_;
};

}  // namespace detlab
