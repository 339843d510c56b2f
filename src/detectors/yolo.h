// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The `yolo` detector: YOLO v1 (nn/detection/yolo_v1.h) behind a NetworkDetector, built from a config node.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "detectors/network_detector.h"
#include "nn/backbones/make_backbone.h"
#include "nn/detection/yolo_v1.h"
#include "pipeline/build_context.h"

namespace detlab {

struct YoloDetectorOptions {
  NetworkDetectorOptions net;             // type, input (a fixed size), train, max_per_image, device, weights
  std::string backbone = "small_resnet";  // make_backbone name: from scratch on a CPU in minutes
  BackboneOptions backbone_options;
  std::string feature = "auto";  // backbone output for the head; auto: the deepest map with >= S cells a side
  YoloV1Options model;
};

/// Reads a `type: yolo` node (experiments/README.md lists the shared keys):
///   backbone: {type, feature, norm (batch_norm | frozen_batch_norm | none), trainable_layers, weights}
///   grid_size (S), num_boxes (B), head: {hidden_channels, num_convs, fc_hidden, dropout, batch_norm, leaky_slope},
///   loss: {lambda_coord, lambda_noobj, rescore, one_object_per_cell}, score_thresh, nms_iou, pre_nms_top_k,
///   augment: {scale, translate, min_visible} (the paper's random scaling / translation while training; 0 0: off).
/// Default input: fixed 448 x 448 (the paper). InputError naming the dotted key for a bad value, an input without
/// a fixed size (or one the padding would change), or scale jitter (the grid needs every image to fill the tensor).
YoloDetectorOptions parse_yolo(const Config& node, const std::vector<std::string>& class_names);

/// Builds the backbone (resolving feature = auto against the fixed input size), the model and the detector.
std::unique_ptr<NetworkDetector> make_yolo(const YoloDetectorOptions& opts);

/// Registry builder: parse_yolo + make_yolo with the data set's class names.
std::unique_ptr<Detector> build_yolo(const Config& node, BuildContext& ctx);

}  // namespace detlab
