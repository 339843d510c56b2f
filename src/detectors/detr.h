// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The `detr` detector: DETR (nn/detr/detr.h) behind a NetworkDetector, built from a config node.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "detectors/network_detector.h"
#include "nn/backbones/make_backbone.h"
#include "nn/detr/detr.h"
#include "pipeline/build_context.h"

namespace detlab {

struct DetrDetectorOptions {
  NetworkDetectorOptions net;             // type, input, train, max_per_image, device, weights
  std::string backbone = "small_resnet";  // make_backbone name (resnet50 for the paper's architecture)
  BackboneOptions backbone_options;
  DetrOptions model;
};

/// Reads a `type: detr` node:
///   backbone: {type, feature, norm, trainable_layers, weights, lr_multiplier}
///   num_queries, anchor_points, two_stage, transformer: {d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout},
///   matcher: {cost_class, cost_bbox, cost_giou}, loss: {eos_coef, ce, bbox, giou, aux_loss},
///   augment: {scale, translate, min_visible} (random scaling / translation while training; off by default).
/// Defaults are the paper's (100 queries, 6 + 6 layers of width 256, costs 1 / 5 / 2, eos_coef 0.1) except the
/// backbone. InputError naming the dotted key for a bad value.
DetrDetectorOptions parse_detr(const Config& node, const std::vector<std::string>& class_names);

std::unique_ptr<NetworkDetector> make_detr(const DetrDetectorOptions& opts);

/// Registry builder: parse_detr + make_detr with the data set's class names.
std::unique_ptr<Detector> build_detr(const Config& node, BuildContext& ctx);

}  // namespace detlab
