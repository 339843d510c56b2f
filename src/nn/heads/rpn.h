// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RegionProposalNetwork: anchors, RPN head, anchor labelling and sampling, proposal layer (torchvision's RPN).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/detection/detection_model.h"
#include "nn/heads/rpn_head.h"
#include "nn/modeling/anchor_generator.h"
#include "nn/modeling/balanced_sampler.h"
#include "nn/modeling/box_coder.h"
#include "nn/modeling/matcher.h"

namespace detlab {

/// The anchors of fasterrcnn_resnet50_fpn: one size per FPN level ("0".."3", "pool"), 32..512, three aspect
/// ratios each (Lin et al. 2017, section 4.1: areas 32^2..512^2 on P2..P6, ratios {1:2, 1:1, 2:1}).
AnchorGeneratorOptions fpn_rpn_anchors(const std::vector<double>& sizes = {32, 64, 128, 256, 512},
                                           const std::vector<double>& aspect_ratios = {0.5, 1.0, 2.0});

/// Defaults are torchvision's FasterRCNN constructor defaults (Ren et al. 2015 values in brackets).
struct RpnOptions {
  AnchorGeneratorOptions anchors = fpn_rpn_anchors();
  int64_t in_channels = 256;             // channels of every map the RPN reads
  int64_t conv_depth = 1;                // 3x3 convs in the head
  int64_t pre_nms_top_n_train = 2000;    // per level and image, best objectness before NMS [12000 over all]
  int64_t pre_nms_top_n_test = 1000;     //   [6000]
  int64_t post_nms_top_n_train = 2000;   // per image after NMS [2000]
  int64_t post_nms_top_n_test = 1000;    //   [300 in the paper's test, 1000 in torchvision]
  double nms_thresh = 0.7;               // [0.7]
  double fg_iou_thresh = 0.7;            // anchor labelling: IoU >= 0.7 foreground [0.7]
  double bg_iou_thresh = 0.3;            //   < 0.3 background, in between ignored [0.3]
  int64_t batch_size_per_image = 256;    // sampled anchors per image [256]
  double positive_fraction = 0.5;        //   up to half of them foreground [1:1]
  double score_thresh = 0.0;             // objectness probability a proposal needs (0: none)
  double min_size = 1e-3;                // proposals with a side below this (pixels) are dropped
};

/// What the RPN returns for a batch.
struct RpnOutput {
  std::vector<torch::Tensor> boxes;   // per image: P_i x 4 proposals (batch-tensor pixels, detached), by score desc
  std::vector<torch::Tensor> scores;  // per image: P_i objectness probabilities
  std::map<std::string, torch::Tensor> losses;  // {"loss_objectness", "loss_rpn_box_reg"} when targets were given
};

/// What this represents: torchvision.models.detection.rpn.RegionProposalNetwork (Ren et al. 2015, section 3.1):
/// the head (registered as "head": rpn.head.* keys) slides over every level, anchors come from
/// AnchorGenerator, deltas are decoded with weights (1, 1, 1, 1), and the proposal layer keeps per level the
/// pre_nms_top_n best logits, clips, drops small boxes, applies the score threshold and per-level NMS, and keeps
/// post_nms_top_n per image (the train values in training mode, the test values in eval mode). Training: anchors
/// are labelled by Matcher (fg / bg thresholds, low-quality matches allowed), batch_size_per_image of them
/// sampled (positive_fraction), loss = BCE on sampled anchors + smooth L1 (beta 1/9, summed) on sampled positives
/// divided by the number sampled. Same operations as torchvision, so the same inputs give the same proposals.
/// Thread safety: one forward at a time.
class RegionProposalNetworkImpl : public torch::nn::Module {
 public:
  /*  requires: anchors with the same number of anchors per location on every level; positive sizes. */
  explicit RegionProposalNetworkImpl(const RpnOptions& options);

  /*  requires: images N x C x H x W (the padded batch: anchors follow its size); features one N x in_channels x
                H_l x W_l map per anchor level; image_sizes.size() == N; targets null or N entries (boxes in
                batch-tensor pixels).
      ensures:  N proposal lists; losses iff targets. */
  RpnOutput forward(const torch::Tensor& images, const std::vector<torch::Tensor>& features,
                    const std::vector<ImageSize>& image_sizes, const std::vector<NetTarget>* targets = nullptr);

  /// Levels of anchors (= feature maps forward() expects).
  size_t num_levels() const { return options_.anchors.sizes.size(); }
  /// The anchors of a batch (one tensor per image), as AnchorGenerator gives them.
  std::vector<torch::Tensor> anchors(const torch::Tensor& images, const std::vector<torch::Tensor>& features) const {
    return anchor_generator_.forward(images, features);
  }
  /// Anchor labelling (torchvision's assign_targets_to_anchors): per image, 1 (IoU >= fg_iou_thresh or an
  /// object's best anchor), 0 (IoU < bg_iou_thresh; every anchor of an image without objects), -1 (ignored),
  /// as float; matched_gt_boxes receives each anchor's best object box (zeros without objects).
  std::vector<torch::Tensor> label_anchors(const std::vector<torch::Tensor>& anchors,
                                           const std::vector<NetTarget>& targets,
                                           std::vector<torch::Tensor>* matched_gt_boxes) const;
  const RpnOptions& options() const { return options_; }
  RpnHead head{nullptr};

 private:
  RpnOptions options_;
  AnchorGenerator anchor_generator_;
  BoxCoder box_coder_;
  Matcher matcher_;
  BalancedPositiveNegativeSampler sampler_;
};
TORCH_MODULE(RegionProposalNetwork);

}  // namespace detlab
