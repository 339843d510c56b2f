// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The `faster_rcnn` detector: torchvision's FasterRCNN (nn/detection/faster_rcnn.h) behind a NetworkDetector.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "detectors/network_detector.h"
#include "nn/backbones/make_backbone.h"
#include "nn/detection/faster_rcnn.h"
#include "pipeline/build_context.h"

namespace detlab {

struct FasterRcnnDetectorOptions {
  NetworkDetectorOptions net;         // type, input, train, max_per_image, device, weights (shared keys)
  std::string backbone = "resnet50";  // fasterrcnn_resnet50_fpn: ResNet-50, FrozenBatchNorm2d, 3 trainable
  BackboneOptions backbone_options;   //   stages, FPN on layer1..layer4 with LastLevelMaxPool
  FasterRcnnOptions model;
  bool rpn_anchors_given = false;      // rpn.anchor_sizes set (else anchors follow the maps, proposals/rpn.h)
  bool rpn_anchor_sizes_flat = false;
};

/// Reads a `type: faster_rcnn` node. Besides the shared keys (parse_network_detector; default input:
/// torchvision's 800 / 1333): backbone {type, parse_backbone_options keys; default resnet50 + FPN, frozen BN,
/// trainable_layers 3}, model_classes (coco: torchvision's 91 COCO columns, matched to the data set's class
/// names; or a list of names for predictor columns 1..; default: the data set's classes), rpn (the rpn stage's
/// keys but model), box_roi_pool {featmaps, output_size, sampling_ratio, canonical_scale, canonical_level},
/// representation_size, roi_heads {sampling keys (classifiers/fast_rcnn_head.h), box_loss_beta, score_thresh,
/// nms_iou}. `weights` loads a whole-model state dict (torchvision's fasterrcnn_resnet50_fpn, also with its
/// pre-0.13 key names). InputError naming the dotted key on a bad value or a class the model lacks.
FasterRcnnDetectorOptions parse_faster_rcnn(const Config& node, const std::vector<std::string>& class_names);

/// Builds the backbone, the FasterRCNN and the NetworkDetector (loading `weights` if set).
std::unique_ptr<NetworkDetector> make_faster_rcnn(const FasterRcnnDetectorOptions& opts);

/// Registry builder: parse_faster_rcnn + make_faster_rcnn with the data set's class names.
std::unique_ptr<Detector> build_faster_rcnn(const Config& node, BuildContext& ctx);

}  // namespace detlab
