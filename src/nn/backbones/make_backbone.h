// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// make_backbone(name, options): builds any backbone by name, optionally with an FPN and pretrained weights.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/backbones/backbone.h"
#include "nn/backbones/fpn.h"
#include "nn/backbones/norm.h"

namespace detlab {

/// The options every backbone family understands; a config layer maps YAML keys onto these (nn/ has no config
/// dependency). Family-specific knobs beyond these: build ResNet / Vgg / MobileNetV3 from their own Options.
struct BackboneOptions {
  std::vector<std::string> out_features;  // empty: the family's default taps (listed in backbone_names())
  int64_t num_classes = 0;                // 0: no classification head (detection); 1000: ImageNet classifier
  NormKind norm = NormKind::kBatchNorm;   // kFrozenBatchNorm: torchvision's choice when fine-tuning detectors
  int trainable_layers = -1;              // -1: everything trains; k: the family's torchvision rule (resnet.h ...)
  double width_mult = 1.0;                // MobileNetV3 only
  std::optional<FpnOptions> fpn;          // set: wrap in BackboneWithFpn (outputs "0".., "pool" / "p6","p7")
  std::string weights;                    // state dict for the body (e.g. torchvision ImageNet weights); "" none
};

/*  requires: name in backbone_names(); options valid for the family (checked, with the values in the message).
    ensures:  a Backbone in training mode; with weights, loaded strictly by name except the classification head's
              keys (fc. / classifier.) when num_classes == 0; WeightFileError / WeightLoadError otherwise. */
std::shared_ptr<Backbone> make_backbone(const std::string& name, const BackboneOptions& options = {});

/// Every name make_backbone() accepts: resnet18 resnet34 resnet50 resnet101 vgg11 vgg16 vgg16_bn
/// mobilenet_v3_large mobilenet_v3_small small_resnet small_vgg.
std::vector<std::string> backbone_names();

/// Number of scalars in the module's parameters (buffers excluded); trainable_only counts requires_grad ones.
int64_t count_parameters(const torch::nn::Module& module, bool trainable_only = false);

}  // namespace detlab
