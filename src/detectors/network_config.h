// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// What the network detectors' builders share: config readers (YOLO v1, DETR) and the mapping of build errors to
// InputErrors (every dense / set family).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "nn/backbones/make_backbone.h"
#include "nn/detection/yolo_augment.h"
#include "pipeline/detector.h"

namespace detlab {

/*  Reads a detector's `backbone:` node: type (one of backbone_names()), norm (batch_norm, frozen_batch_norm,
    none), trainable_layers and weights, into *name and *options (absent keys keep their values).
    Family-specific keys (feature, lr_multiplier) are left to the caller. InputError naming the key otherwise. */
void parse_backbone_node(const Config& b, std::string* name, BackboneOptions* options);

/*  Reads an `augment:` node (random scale and translation, YOLO paper section 2.2): scale and translate in
    [0, 1), min_visible in (0, 1]; absent keys keep o's values. */
ScaleTranslateOptions parse_scale_translate(const Config& a, ScaleTranslateOptions o);

/*  Runs make() and reports what building can raise as an InputError naming the config: an option combination
    the modules refuse (c10::Error; at the node), a backbone weights file that cannot be read or does not fit the
    backbone (WeightFileError / WeightLoadError; the file, at node.backbone.weights). */
std::unique_ptr<Detector> build_reporting_errors(const Config& node, const std::string& backbone_weights,
                                                 const std::function<std::unique_ptr<Detector>()>& make);

}  // namespace detlab
