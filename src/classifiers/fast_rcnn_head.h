// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// fast_rcnn_head: Fast R-CNN's head (fc6 / fc7, softmax over K+1 classes, class-specific box deltas) as a stage.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "config/config.h"
#include "nn/heads/roi_heads.h"
#include "pipeline/build_context.h"
#include "pipeline/stages.h"

namespace detlab {

struct FastRcnnHeadOptions {
  int num_classes = 0;                  // K (the data set's); the softmax has K + 1 columns
  std::vector<int64_t> in_shape;        // one region's features: the feature stage's region_shape, or in_features
  int64_t representation_size = 1024;   // fc6 / fc7 width (torchvision's FPN head); 0: no fc6 / fc7
  RoiHeadsOptions roi_heads;            // RoI sampling and loss of training (nn/heads/roi_heads.h)
  // Training on its own, when the features are not torch stages trained with it (HOG -> softmax): SGD with
  // momentum 0.9 over the RoIs sampled from every training image (sampling as above), this many epochs.
  int epochs = 30;
  double lr = 0.01;
  double weight_decay = 5e-4;  // Fast R-CNN's
  int batch_size = 128;        // RoIs per SGD step (Fast R-CNN's mini-batch)
};

/// Keys of an RoI sampling node: batch_size_per_image, positive_fraction, fg_iou, bg_iou, bg_iou_lo,
/// add_gt_proposals. InputError naming the dotted key on a bad value.
RoiHeadsOptions parse_roi_sampling(const Config& node, const RoiHeadsOptions& defaults);

/// Keys: representation_size, in_features (D, for host features without a torch feature stage), sampling
/// (parse_roi_sampling), box_loss_beta, fit {epochs, lr, weight_decay, batch_size}.
/// requires: ctx.region_shape set by the feature stage, or in_features. InputError otherwise.
FastRcnnHeadOptions parse_fast_rcnn_head(const Config& node, const BuildContext& ctx);

/// What this represents: the sibling output layers of Fast R-CNN (Girshick 2015, section 2.1-2.3) with
/// torchvision's TwoMLPHead: region features -> fc6 -> fc7 -> softmax over K+1 classes (column 0 =
/// background) and per-class box deltas. classify() gives the probabilities and the deltas of classes 1..K,
/// divided by the (10, 10, 5, 5) box-coder weights so that the staged post-processing decodes them with unit
/// weights (the same boxes torchvision decodes). Device features (RoI pooling) or host rows (cnn_crop, HOG).
/// Training: with torch feature stages the staged detector trains it jointly (TorchClassifierStage, multi-task
/// loss on sampled RoIs); otherwise fit() samples RoIs on the host features and trains it alone.
/// Saves fast_rcnn_head.pt (keys box_head.fc6.*, box_head.fc7.*, box_predictor.cls_score.*, .bbox_pred.*).
/// thread safety: classify() may run concurrently (eval mode, no gradients).
std::unique_ptr<ClassifierStage> make_fast_rcnn_head(const FastRcnnHeadOptions& opts);

}  // namespace detlab
