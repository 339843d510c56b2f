// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// HungarianMatcher: DETR's matching cost per image, solved exactly by linear_sum_assignment.
#include "nn/detr/hungarian_matcher.h"

#include "nn/modeling/hungarian.h"
#include "nn/ops/box_iou.h"
#include "nn/ops/boxes.h"

namespace detlab {

HungarianMatcher::HungarianMatcher(HungarianMatcherOptions opts) : opts_(opts) {
  TORCH_CHECK(opts_.cost_class >= 0 && opts_.cost_bbox >= 0 && opts_.cost_giou >= 0 &&
                  (opts_.cost_class > 0 || opts_.cost_bbox > 0 || opts_.cost_giou > 0),
              "HungarianMatcher: costs must be >= 0 and not all 0, got class ", opts_.cost_class, " bbox ",
              opts_.cost_bbox, " giou ", opts_.cost_giou);
}

at::Tensor HungarianMatcher::cost_matrix(const at::Tensor& logits, const at::Tensor& boxes,
                                         const SetTarget& target) const {
  TORCH_CHECK(logits.dim() == 2 && boxes.dim() == 2 && boxes.size(1) == 4 && logits.size(0) == boxes.size(0),
              "HungarianMatcher: logits Q x (K+1) and boxes Q x 4 expected, got ", logits.sizes(), " and ",
              boxes.sizes());
  TORCH_CHECK(target.labels.dim() == 1 && target.boxes.dim() == 2 && target.boxes.size(1) == 4 &&
                  target.labels.size(0) == target.boxes.size(0),
              "HungarianMatcher: target labels T and boxes T x 4 expected, got ", target.labels.sizes(), " and ",
              target.boxes.sizes());
  at::NoGradGuard no_grad;
  const at::Tensor prob = opts_.focal ? logits.to(at::kFloat).sigmoid() : logits.to(at::kFloat).softmax(-1);
  const at::Tensor labels = target.labels.to(prob.device(), at::kLong);
  const at::Tensor tboxes = target.boxes.to(prob.device(), at::kFloat);
  const at::Tensor pboxes = boxes.to(at::kFloat);
  // Contrary to the loss, the class cost is -p rather than -log p: a constant 1 - p would not change the
  // assignment, and p keeps it commensurable with the box costs (DETR's comment in matcher.py).
  at::Tensor cost_class;
  if (opts_.focal) {
    const at::Tensor p = prob.index_select(1, labels);
    const double a = opts_.focal_alpha, g = opts_.focal_gamma;
    const at::Tensor pos = a * (1 - p).pow(g) * -(p + 1e-8).log();
    const at::Tensor neg = (1 - a) * p.pow(g) * -(1 - p + 1e-8).log();
    cost_class = pos - neg;
  } else {
    cost_class = -prob.index_select(1, labels);
  }
  const at::Tensor cost_bbox = (pboxes.unsqueeze(1) - tboxes.unsqueeze(0)).abs().sum(-1);  // torch.cdist(p=1)
  const at::Tensor cost_giou = -generalized_box_iou(box_convert(pboxes, "cxcywh", "xyxy").contiguous(),
                                                         box_convert(tboxes, "cxcywh", "xyxy").contiguous());
  return opts_.cost_bbox * cost_bbox + opts_.cost_class * cost_class + opts_.cost_giou * cost_giou;
}

std::vector<MatchIndices> HungarianMatcher::operator()(const at::Tensor& pred_logits, const at::Tensor& pred_boxes,
                                                       const std::vector<SetTarget>& targets) const {
  TORCH_CHECK(pred_logits.dim() == 3 && pred_boxes.dim() == 3 && pred_logits.size(0) == pred_boxes.size(0) &&
                  pred_logits.size(1) == pred_boxes.size(1),
              "HungarianMatcher: pred_logits N x Q x (K+1) and pred_boxes N x Q x 4 expected, got ",
              pred_logits.sizes(), " and ", pred_boxes.sizes());
  TORCH_CHECK(static_cast<int64_t>(targets.size()) == pred_logits.size(0), "HungarianMatcher: ", targets.size(),
              " targets for a batch of ", pred_logits.size(0));
  std::vector<MatchIndices> out;
  out.reserve(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto b = static_cast<int64_t>(i);
    if (targets[i].labels.numel() == 0) {  // nothing to match: every query predicts "no object"
      out.push_back({at::empty({0}, at::kLong), at::empty({0}, at::kLong)});
      continue;
    }
    const at::Tensor cost = cost_matrix(pred_logits[b], pred_boxes[b], targets[i]);
    auto [rows, cols] = linear_sum_assignment(cost);
    out.push_back({rows, cols});
  }
  return out;
}

}  // namespace detlab
