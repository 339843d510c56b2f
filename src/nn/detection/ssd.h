// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Ssd: the SSD / SSDlite detection network (Liu et al. 2016) as a DetectionModel, torchvision-compatible.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/backbones/backbone.h"
#include "nn/detection/detection_model.h"
#include "nn/detection/ssd_augment.h"
#include "nn/detection/ssd_loss.h"
#include "nn/detection/ssd_postprocess.h"
#include "nn/heads/ssd_head.h"
#include "nn/modeling/box_coder.h"
#include "nn/modeling/default_boxes.h"

namespace detlab {

struct SsdOptions {
  int64_t num_classes = 0;                 // object classes; the network adds background as column 0
  DefaultBoxOptions anchors;           // one aspect-ratio list per backbone map
  SsdHeadOptions::Kind head = SsdHeadOptions::Kind::kConv;
  NormSpec head_norm{NormKind::kBatchNorm, 0.001, 0.03};  // kLite's BatchNorm (torchvision's SSDlite values)
  double iou_thresh = 0.5;                 // matching threshold (paper, section 2.2 "Matching strategy")
  SsdLossOptions loss;                 // 3:1 hard negatives, smooth L1
  SsdPostprocessOptions post;          // score threshold, top-k, NMS, detections per image
  std::array<double, 4> box_weights = {10.0, 10.0, 5.0, 5.0};  // torchvision SSD (the paper's variances 0.1 / 0.2)
  SsdAugmentOptions augment;               // training only; off by default (torchvision's SSD has none in the model)
};

/// torchvision's ssd300_vgg16(num_classes = K + 1) settings (anchors, post-processing) for K classes.
SsdOptions ssd300_options(int64_t num_classes);
/// torchvision's ssdlite320_mobilenet_v3_large settings: lite head, score 0.001, NMS 0.55, top-k 300, 300 dets.
SsdOptions ssdlite320_options(int64_t num_classes);

/// What this represents: torchvision.models.detection.SSD without its transform (inputs arrive resized and
/// normalized): `backbone` (any Backbone whose maps, ordered by stride then name, match anchors.aspect_ratios;
/// SsdVgg / SsdLiteMobileNet for torchvision's models), `head` (SsdHead), default boxes, matching, loss and
/// post-processing exactly as torchvision's. State dict keys equal torchvision's, so its checkpoints load
/// strictly. Labels at this interface are 0..K-1; torchvision's column k is our label k - 1.
/// Thread safety: one forward at a time.
class Ssd : public DetectionModel {
 public:
  /*  requires: backbone non-null with as many maps as anchors.aspect_ratios; num_classes >= 1. */
  Ssd(std::shared_ptr<Backbone> backbone, const SsdOptions& options);

  std::vector<NetDetections> detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                    NetTimes* times = nullptr) override;
  /*  ensures: {"bbox_regression", "classification"} (torchvision's keys). */
  std::map<std::string, torch::Tensor> losses(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                              const std::vector<NetTarget>& targets) override;
  int64_t num_classes() const override { return options_.num_classes; }

  /// The network's raw outputs on a batch (for parity checks and visualisation).
  struct Outputs {
    std::vector<torch::Tensor> features;  // backbone maps, finest first
    SsdHeadImpl::Outputs head;            // N x A x (K + 1) logits, N x A x 4 deltas
    torch::Tensor anchors;                // A x 4 default boxes (pixels of the batch tensor)
  };
  Outputs forward(const torch::Tensor& images, NetTimes* times = nullptr);
  /// torchvision's postprocess_detections on outputs: labels 1..K (background-indexed).
  std::vector<NetDetections> postprocess(const Outputs& out, const std::vector<ImageSize>& image_sizes) const;

  const std::shared_ptr<Backbone>& backbone() const { return backbone_; }
  const SsdHead& head() const { return head_; }
  const DefaultBoxGenerator& anchor_generator() const { return anchors_; }
  const SsdOptions& options() const { return options_; }

 private:
  SsdOptions options_;
  std::shared_ptr<Backbone> backbone_;
  std::vector<std::string> map_names_;
  SsdHead head_{nullptr};
  DefaultBoxGenerator anchors_;
  BoxCoder coder_;
};

}  // namespace detlab
