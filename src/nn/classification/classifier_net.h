// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ClassifierNet: any nn/ backbone -> global average pooling -> linear layer, with every backbone tap exposed.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/backbones/backbone.h"

namespace detlab {

/// What this represents: the network of CAM (Zhou et al. 2016, "Learning Deep Features for Discriminative
/// Localization"): a convolutional body, global average pooling of one of its maps (`feature`) and one linear
/// layer. Parameter names: backbone.* (torchvision names of the body) and fc.weight / fc.bias.
///
/// Taps: the backbone is built with out_features = every named map of its family up to `feature` in forward
/// order (ResNet layer1..4, VGG convS_K / poolS, MobileNetV3 features.i[.block.0]), so one forward returns all
/// of them. This is how the visualization methods read "any named layer" without forward hooks (which LibTorch's
/// C++ modules do not have): the names are the backbone's own tap names, listed by taps().
/// thread safety: one forward at a time (BatchNorm statistics in training mode).
class ClassifierNet : public torch::nn::Module {
 public:
  /*  requires: backbone non-null; feature among backbone->output_shape(); num_classes >= 2. */
  ClassifierNet(std::shared_ptr<Backbone> backbone, std::string feature, int64_t num_classes);

  struct Output {
    std::map<std::string, torch::Tensor> maps;  // every tap, N x C_k x h_k x w_k
    torch::Tensor embedding;                    // N x C: the pooled `feature` map (the input of fc)
    torch::Tensor logits;                       // N x num_classes
  };
  /*  requires: images N x 3 x H x W normalized.  */
  Output forward(const torch::Tensor& images);
  /// GAP + fc applied to a `feature` map (N x C x h x w -> N x num_classes).
  torch::Tensor head(const torch::Tensor& feature_map);

  const std::shared_ptr<Backbone>& backbone() const { return backbone_; }
  /// fc.weight (num_classes x C) and fc.bias: the CAM weights.
  const torch::nn::Linear& fc() const { return fc_; }
  const std::string& feature() const { return feature_; }
  int64_t num_classes() const { return num_classes_; }
  /// Tap names in forward order (input side first); `feature` is the last.
  const std::vector<std::string>& taps() const { return taps_; }
  const std::map<std::string, ShapeSpec>& tap_shapes() const { return shapes_; }

 private:
  std::shared_ptr<Backbone> backbone_;
  torch::nn::Linear fc_{nullptr};
  std::string feature_;
  int64_t num_classes_ = 0;
  std::vector<std::string> taps_;
  std::map<std::string, ShapeSpec> shapes_;
};

/// Every named map a make_backbone() family can tap, in forward order (ResNet: layer1..layer4; VGG and
/// MobileNetV3: their available_features()).
std::vector<std::string> backbone_taps(const std::string& backbone_name);

/// Builds make_backbone(backbone_name) without a head, tapping every map up to `feature` ("" = the deepest),
/// and the classifier over it. Throws c10::Error naming the value for an unknown name or feature.
std::shared_ptr<ClassifierNet> make_classifier_net(const std::string& backbone_name, const std::string& feature,
                                                   int64_t num_classes);

}  // namespace detlab
