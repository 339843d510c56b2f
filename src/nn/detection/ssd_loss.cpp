// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SSD matching and loss (see ssd_loss.h), in torchvision's operations.
#include "nn/detection/ssd_loss.h"

#include <limits>

#include "nn/losses/cross_entropy.h"
#include "nn/losses/smooth_l1.h"
#include "nn/modeling/matcher.h"
#include "nn/ops/box_iou.h"

namespace detlab {

torch::Tensor ssd_match(const torch::Tensor& gt_boxes, const torch::Tensor& anchors, double iou_thresh) {
  TORCH_CHECK(gt_boxes.dim() == 2 && gt_boxes.size(1) == 4 && anchors.dim() == 2 && anchors.size(1) == 4,
              "ssd_match: boxes must be M x 4 and A x 4, got ", gt_boxes.sizes(), " and ", anchors.sizes());
  if (gt_boxes.size(0) == 0) return torch::full({anchors.size(0)}, -1, anchors.options().dtype(torch::kLong));
  const torch::Tensor quality = box_iou(gt_boxes, anchors);  // M x A
  torch::Tensor matches = Matcher(MatcherOptions{iou_thresh, iou_thresh, false})(quality);
  // Best default box of every ground truth, whatever its IoU (torchvision's SSDMatcher; the later ground truth
  // wins when two share a box, as index_put_ with duplicate indices does on the CPU).
  const torch::Tensor best = std::get<1>(quality.max(1));
  matches.index_put_({best}, torch::arange(best.size(0), matches.options()));
  return matches;
}

std::map<std::string, torch::Tensor> ssd_loss(const torch::Tensor& cls_logits, const torch::Tensor& bbox_regression,
                                              const torch::Tensor& anchors, const std::vector<torch::Tensor>& gt_boxes,
                                              const std::vector<torch::Tensor>& gt_labels,
                                              const std::vector<torch::Tensor>& matched, const BoxCoder& coder,
                                              const SsdLossOptions& opts) {
  const int64_t n = cls_logits.size(0), a = cls_logits.size(1), c = cls_logits.size(2);
  TORCH_CHECK(bbox_regression.size(0) == n && bbox_regression.size(1) == a && anchors.size(0) == a,
              "ssd_loss: shapes disagree: logits ", cls_logits.sizes(), ", deltas ", bbox_regression.sizes(),
              ", anchors ", anchors.sizes());
  TORCH_CHECK(static_cast<int64_t>(gt_boxes.size()) == n && gt_labels.size() == gt_boxes.size() &&
                  matched.size() == gt_boxes.size(),
              "ssd_loss: ", n, " images but ", gt_boxes.size(), " targets and ", matched.size(), " matches");
  int64_t num_foreground = 0;
  std::vector<torch::Tensor> bbox_loss, cls_targets;
  for (int64_t i = 0; i < n; ++i) {
    const torch::Tensor fg = torch::where(matched[i] >= 0)[0];
    const torch::Tensor fg_gt = matched[i].index_select(0, fg);
    num_foreground += fg.numel();
    const torch::Tensor target =
        coder.encode_single(gt_boxes[i].index_select(0, fg_gt), anchors.index_select(0, fg));
    bbox_loss.push_back(
        detlab::smooth_l1_loss(bbox_regression[i].index_select(0, fg), target, opts.smooth_l1_beta, Reduction::kSum));
    torch::Tensor t = torch::zeros({a}, gt_labels[i].options());
    t.index_put_({fg}, gt_labels[i].index_select(0, fg_gt));
    cls_targets.push_back(t);
  }
  const torch::Tensor targets = torch::stack(cls_targets);  // N x A
  CrossEntropyOptions ce;
  ce.reduction = Reduction::kNone;
  const torch::Tensor cls_loss =
      detlab::cross_entropy_loss(cls_logits.reshape({-1, c}), targets.view(-1), ce).view({n, a});

  // Hard negative mining: rank every anchor's loss within its image (positives pushed to the end with -inf)
  // and keep the negatives ranked below neg_to_pos x #positives of that image.
  const torch::Tensor foreground = targets > 0;
  const torch::Tensor num_negative = opts.neg_to_pos * foreground.sum(1, /*keepdim=*/true);
  torch::Tensor negative_loss = cls_loss.detach().clone();
  negative_loss.masked_fill_(foreground, -std::numeric_limits<float>::infinity());
  const torch::Tensor order = std::get<1>(negative_loss.sort(1, /*descending=*/true));
  const torch::Tensor background = std::get<1>(order.sort(1)) < num_negative;

  const double denom = static_cast<double>(std::max<int64_t>(1, num_foreground));
  return {{"bbox_regression", torch::stack(bbox_loss).sum() / denom},
          {"classification",
           (cls_loss.masked_select(foreground).sum() + cls_loss.masked_select(background).sum()) / denom}};
}

}  // namespace detlab
