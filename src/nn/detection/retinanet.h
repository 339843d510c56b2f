// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RetinaNet (Lin et al. 2017) as a DetectionModel: FPN backbone, anchors, focal loss, torchvision-compatible.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "nn/backbones/backbone.h"
#include "nn/detection/detection_model.h"
#include "nn/heads/retinanet_head.h"
#include "nn/losses/focal_loss.h"
#include "nn/modeling/anchor_generator.h"
#include "nn/modeling/box_coder.h"
#include "nn/modeling/matcher.h"

namespace detlab {

/// RetinaNet's anchors (paper, section 4 "Anchors"): on level l, sizes base_sizes[l] * 2^(i / scales_per_octave)
/// for i < scales_per_octave, truncated to integers as torchvision's int(x * 2 ** (i / 3)), times the aspect ratios.
/// Defaults: 32..512 on P3..P7, 3 scales, ratios {0.5, 1, 2} -> 9 anchors per location.
AnchorGeneratorOptions retinanet_anchors(const std::vector<double>& base_sizes = {32, 64, 128, 256, 512},
                                             int scales_per_octave = 3,
                                             const std::vector<double>& aspect_ratios = {0.5, 1.0, 2.0});

struct RetinaNetOptions {
  int64_t num_classes = 0;                          // sigmoid columns (torchvision's COCO models: 91)
  AnchorGeneratorOptions anchors = retinanet_anchors();
  int64_t head_convs = 4;                           // per subnet (paper: 4)
  double prior_probability = 0.01;                  // pi (paper, section 4.1)
  NormSpec head_norm{NormKind::kNone};              // v1 head: no normalisation
  MatcherOptions matcher{0.5, 0.4, true};       // IoU >= 0.5 foreground, < 0.4 background (section 4)
  FocalLossOptions focal{0.25, 2.0};            // alpha, gamma (paper's best, Table 1)
  enum class BoxLoss { kL1, kSmoothL1, kGiou };
  BoxLoss box_loss = BoxLoss::kL1;                  // torchvision v1's default ("l1")
  double smooth_l1_beta = 1.0 / 9.0;                // kSmoothL1: Detectron's RetinaNet value (0.11)
  double score_thresh = 0.05;                       // torchvision's defaults below
  double nms_thresh = 0.5;
  int64_t detections_per_img = 300;
  int64_t topk_candidates = 1000;                   // per level, before NMS (paper: 1000)
  std::array<double, 4> box_weights = {1.0, 1.0, 1.0, 1.0};
};

/// What this represents: torchvision.models.detection.RetinaNet without its transform: `backbone` (any Backbone
/// whose maps, ordered by stride, all have the same channels; BackboneWithFpn over ResNet-50 with P6/P7 for
/// retinanet_resnet50_fpn), `head` (RetinaNetHead), anchors (AnchorGenerator), matching (Matcher),
/// sigmoid focal loss normalised by the number of foreground anchors, L1 box loss, and post-processing exactly
/// as torchvision's. State dict keys equal torchvision's. Labels 0..num_classes-1 are the logit columns.
/// Thread safety: one forward at a time.
class RetinaNet : public DetectionModel {
 public:
  /*  requires: backbone non-null, its maps one per anchors.sizes level, equal channels; num_classes >= 1. */
  RetinaNet(std::shared_ptr<Backbone> backbone, const RetinaNetOptions& options);

  std::vector<NetDetections> detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                    NetTimes* times = nullptr) override;
  /*  ensures: {"bbox_regression", "classification"} (torchvision's keys). */
  std::map<std::string, torch::Tensor> losses(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                              const std::vector<NetTarget>& targets) override;
  int64_t num_classes() const override { return options_.num_classes; }

  struct Outputs {
    std::vector<torch::Tensor> features;  // FPN maps, finest first
    RetinaNetHeadImpl::Outputs head;      // per level: N x H W A x K logits, N x H W A x 4 deltas
    std::vector<torch::Tensor> anchors;   // per level: H W A x 4 (pixels of the batch tensor)
  };
  Outputs forward(const torch::Tensor& images, NetTimes* times = nullptr);
  /// torchvision's postprocess_detections on outputs.
  std::vector<NetDetections> postprocess(const Outputs& out, const std::vector<ImageSize>& image_sizes) const;

  const std::shared_ptr<Backbone>& backbone() const { return backbone_; }
  const RetinaNetHead& head() const { return head_; }
  const RetinaNetOptions& options() const { return options_; }

 private:
  RetinaNetOptions options_;
  std::shared_ptr<Backbone> backbone_;
  std::vector<std::string> map_names_;
  RetinaNetHead head_{nullptr};
  AnchorGenerator anchors_;
  BoxCoder coder_;
};

/*  The RetinaNet objective for one batch (torchvision's RetinaNetHead.compute_loss):
      classification  = mean over images of sum focal(logits, one-hot) over anchors not between thresholds
                        / max(1, #foreground of the image)
      bbox_regression = mean over images of sum box loss over foreground anchors / max(1, #foreground).
    requires: cls_logits N x A x K, bbox_regression N x A x 4, anchors A x 4, matched[i] A (Matcher output),
              labels[i] in [0, K).  */
std::map<std::string, torch::Tensor> retinanet_loss(const torch::Tensor& cls_logits,
                                                    const torch::Tensor& bbox_regression, const torch::Tensor& anchors,
                                                    const std::vector<NetTarget>& targets,
                                                    const std::vector<torch::Tensor>& matched,
                                                    const BoxCoder& coder, const RetinaNetOptions& options);

}  // namespace detlab
