// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// retinanet_loss (see retinanet.h): focal loss and box loss in torchvision's operations.
#include "nn/detection/retinanet.h"
#include "nn/losses/giou_loss.h"
#include "nn/losses/smooth_l1.h"

namespace detlab {

std::map<std::string, torch::Tensor> retinanet_loss(const torch::Tensor& cls_logits,
                                                    const torch::Tensor& bbox_regression, const torch::Tensor& anchors,
                                                    const std::vector<NetTarget>& targets,
                                                    const std::vector<torch::Tensor>& matched,
                                                    const BoxCoder& coder, const RetinaNetOptions& o) {
  const int64_t n = cls_logits.size(0);
  TORCH_CHECK(static_cast<int64_t>(targets.size()) == n && matched.size() == targets.size(), "retinanet_loss: ", n,
              " images, ", targets.size(), " targets, ", matched.size(), " matches");
  TORCH_CHECK(bbox_regression.size(1) == cls_logits.size(1) && anchors.size(0) == cls_logits.size(1),
              "retinanet_loss: logits ", cls_logits.sizes(), ", deltas ", bbox_regression.sizes(), ", anchors ",
              anchors.sizes());
  FocalLossOptions focal = o.focal;
  focal.reduction = Reduction::kSum;
  torch::Tensor cls_total, box_total;
  for (int64_t i = 0; i < n; ++i) {
    const torch::Tensor& m = matched[static_cast<size_t>(i)];
    const torch::Tensor fg_mask = m >= 0;
    const torch::Tensor fg = torch::where(fg_mask)[0];
    const double num_fg = static_cast<double>(std::max<int64_t>(1, fg.numel()));
    const torch::Tensor gt_idx = m.index_select(0, fg);

    // One-hot targets of the foreground anchors; anchors between the thresholds (-2) are left out.
    torch::Tensor onehot = torch::zeros_like(cls_logits[i]);
    onehot.index_put_({fg, targets[i].labels.index_select(0, gt_idx)}, 1.0);
    const torch::Tensor valid = m != Matcher::kBetweenThresholds;
    const torch::Tensor cls = sigmoid_focal_loss(cls_logits[i].index({valid}), onehot.index({valid}), focal) / num_fg;

    const torch::Tensor gt = targets[i].boxes.index_select(0, gt_idx);
    const torch::Tensor deltas = bbox_regression[i].index_select(0, fg);
    const torch::Tensor a = anchors.index_select(0, fg);
    torch::Tensor box;
    switch (o.box_loss) {
      case RetinaNetOptions::BoxLoss::kL1:
        box = (deltas - coder.encode_single(gt, a)).abs().sum();  // F.l1_loss(reduction="sum")
        break;
      case RetinaNetOptions::BoxLoss::kSmoothL1:
        box = detlab::smooth_l1_loss(deltas, coder.encode_single(gt, a), o.smooth_l1_beta, Reduction::kSum);
        break;
      case RetinaNetOptions::BoxLoss::kGiou:
        box = generalized_box_iou_loss(coder.decode_single(deltas, a), gt, Reduction::kSum);
        break;
    }
    box = box / num_fg;
    cls_total = i == 0 ? cls : cls_total + cls;
    box_total = i == 0 ? box : box_total + box;
  }
  return {{"classification", cls_total / static_cast<double>(n)},
          {"bbox_regression", box_total / static_cast<double>(std::max<int64_t>(1, n))}};
}

}  // namespace detlab
