// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SSD training targets and loss: default-box matching and hard-negative mining (Liu et al. 2016, section 2.2).
#pragma once

#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

#include "nn/modeling/box_coder.h"

namespace detlab {

/// SSD's matching strategy (torchvision's SSDMatcher): every default box whose best IoU with a ground truth is
/// >= iou_thresh is matched to that ground truth, and every ground truth is also matched to the default box it
/// overlaps most ("best prior per ground truth"), whatever the IoU.
/// requires: gt_boxes M x 4, anchors A x 4 (x1, y1, x2, y2), same device.
/// ensures:  A int64 matched ground-truth indices, -1 for background (-1 everywhere when M == 0).
torch::Tensor ssd_match(const torch::Tensor& gt_boxes, const torch::Tensor& anchors, double iou_thresh);

struct SsdLossOptions {
  double neg_to_pos = 3.0;   // hard negatives per positive (paper: "at most 3:1"); torchvision's positive_fraction 0.25
  double smooth_l1_beta = 1.0;  // localisation loss: smooth L1 with beta 1 (Fast R-CNN's, the paper's L_loc)
};

/// The SSD objective, exactly as torchvision's SSD.compute_loss:
///   bbox_regression = sum over matched boxes of smooth L1(deltas, encode(gt, anchor)) / max(1, #matched)
///   classification  = (sum of softmax cross entropy over matched boxes + over the hardest negatives) / same,
/// where the hardest negatives of an image are its neg_to_pos x #matched unmatched boxes with the largest
/// cross entropy (all anchors of the batch ranked per image).
/// requires: cls_logits N x A x C (column 0 = background), bbox_regression N x A x 4, anchors A x 4;
///           per image gt_boxes[i] M_i x 4 and gt_labels[i] M_i int64 in [1, C) (background-shifted),
///           matched[i] from ssd_match.
/// ensures:  {"bbox_regression", "classification"} scalars, differentiable in the network outputs.
std::map<std::string, torch::Tensor> ssd_loss(const torch::Tensor& cls_logits, const torch::Tensor& bbox_regression,
                                              const torch::Tensor& anchors, const std::vector<torch::Tensor>& gt_boxes,
                                              const std::vector<torch::Tensor>& gt_labels,
                                              const std::vector<torch::Tensor>& matched, const BoxCoder& coder,
                                              const SsdLossOptions& opts = {});

}  // namespace detlab
