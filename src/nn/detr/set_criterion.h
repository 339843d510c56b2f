// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DETR's SetCriterion: set-prediction losses (class CE with a down-weighted "no object", L1, GIoU) per decoder layer.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

#include "nn/detr/hungarian_matcher.h"

namespace detlab {

/// DETR's defaults (main.py): eos_coef 0.1, loss weights CE 1, L1 5, GIoU 2 (equal to the matching costs).
struct SetCriterionOptions {
  int64_t num_classes = 0;  // K; class index K is "no object"
  double eos_coef = 0.1;    // relative weight of the "no object" class in the CE (most queries are unmatched)
  double weight_ce = 1;
  double weight_bbox = 5;
  double weight_giou = 2;
  bool aux_loss = true;  // losses on every intermediate decoder layer too
  /// Sigmoid focal loss over K classes instead of the eos-weighted CE over K + 1 (Deformable DETR): unmatched
  /// queries have all-zero targets; loss_ce = sum of the focal losses / num_boxes. eos_coef is then unused.
  bool focal = false;
  double focal_alpha = 0.25;
  double focal_gamma = 2;
};

/// What this represents: DETR's SetCriterion (models/detr.py) for the losses 'labels' and 'boxes'. For each
/// decoder layer's predictions the HungarianMatcher assigns queries to targets; then
///   loss_ce   = CE over all queries (target K for unmatched ones), class weights 1 .. 1, eos_coef; weighted mean
///               (with focal: sigmoid focal loss summed over queries and classes / num_boxes; logits N x Q x K)
///   loss_bbox = sum over matched pairs of |b_q - b_t|_1 / num_boxes          (normalized cxcywh)
///   loss_giou = sum over matched pairs of 1 - GIoU(b_q, b_t) / num_boxes
/// with num_boxes = max(total targets in the batch, 1). The last layer gives loss_ce / loss_bbox / loss_giou; layer
/// i < L - 1 gives loss_ce_i / loss_bbox_i / loss_giou_i (DETR's names). Returned values are already multiplied
/// by their weights (DETR's weight_dict), so their sum is DETR's total loss.
/// thread safety: immutable.
class SetCriterion {
 public:
  /*  requires: num_classes > 0; eos_coef in (0, 1]; weights >= 0. */
  SetCriterion(SetCriterionOptions opts, HungarianMatcher matcher);

  /*  requires: pred_logits L x N x Q x (K + 1), pred_boxes L x N x Q x 4 (cxcywh in [0, 1]); targets.size() == N.
      ensures:  3 scalars (3 L with aux_loss), the same keys for the same L; differentiable in the predictions. */
  std::map<std::string, at::Tensor> operator()(const at::Tensor& pred_logits, const at::Tensor& pred_boxes,
                                               const std::vector<SetTarget>& targets) const;

  /*  The unweighted losses of one layer for a given matching: keys loss_ce, loss_bbox, loss_giou.
      requires: logits N x Q x (K + 1), boxes N x Q x 4, indices and targets of size N, num_boxes > 0. */
  std::map<std::string, at::Tensor> layer_losses(const at::Tensor& logits, const at::Tensor& boxes,
                                                 const std::vector<SetTarget>& targets,
                                                 const std::vector<MatchIndices>& indices, double num_boxes) const;

  const SetCriterionOptions& options() const { return opts_; }
  const HungarianMatcher& matcher() const { return matcher_; }

 private:
  SetCriterionOptions opts_;
  HungarianMatcher matcher_;
};

}  // namespace detlab
