// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Backbone stages: a torch CNN (nn/backbones) run once per image before proposals and features (Fast / Faster R-CNN).
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "features/backbone_type.h"
#include "nn/backbones/make_backbone.h"
#include "pipeline/stages.h"
#include "tensor/transform.h"

namespace detlab {

struct BackboneStageOptions {
  std::string name = "small_resnet";  // make_backbone() name = the registry name (`type`)
  BackboneOptions backbone;           // out_features, norm, trainable_layers, weights, fpn
  /// Resize / normalize / pad of the image (tensor/transform.h), shared by detection and training. Default:
  /// torchvision's detection transform (shorter side 800, longer <= 1333, ImageNet statistics, padding to 32).
  TransformOptions input;
  std::string device = "cpu";  // until training moves the network (detections run where its weights are)
};

/// Reads the backbone keys shared by every torch component that builds one (this stage, cnn_crop, the
/// faster_rcnn detector): out_features, norm (batch_norm | frozen_batch_norm | none), trainable_layers,
/// width_mult, weights (a state dict of the body, e.g. torchvision ImageNet weights converted as in the README),
/// fpn ({out_channels, in_features, extra: max_pool | p6p7 | none, p6p7_from_c5, norm} or true for defaults).
/// InputError naming the dotted key on a bad value.
BackboneOptions parse_backbone_options(const Config& node);

/// Keys: type (the backbone name), the keys of parse_backbone_options, input (parse_transform), device.
BackboneStageOptions parse_backbone_stage(const Config& node);

/// What this represents: the shared convolutional trunk of Fast / Faster R-CNN (Girshick 2015, section 2): the
/// image is resized and normalized, run through the network once, and the named maps go to ImageContext::maps
/// (a FeatureMaps, pipeline/feature_maps.h) for the proposal and feature stages. It implements
/// TorchBackboneStage (pipeline/torch_stage.h) so that the staged detector can train it with the other torch
/// stages. Saves its weights as backbone.pt (a state dict, torchvision key names).
/// thread safety: forward() may run concurrently (eval mode, no gradients).
/// Throws c10::Error / WeightFileError / WeightLoadError on options the network refuses (registry builders wrap
/// it in with_config_errors, pipeline/torch_stage.h).
std::unique_ptr<BackboneStage> make_backbone_stage(const BackboneStageOptions& opts);

}  // namespace detlab
