// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ResNet (torchvision structure and parameter names) as a classifier and a detection backbone, plus small_resnet.
#pragma once

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nn/backbones/backbone.h"
#include "nn/backbones/inference_conv.h"
#include "nn/backbones/norm.h"

namespace detlab {

struct ResNetOptions {
  enum class Block { kBasic, kBottleneck };
  Block block = Block::kBottleneck;
  std::vector<int64_t> layers{3, 4, 6, 3};         // blocks per stage: ResNet-50 (He et al. 2016, Table 1)
  std::vector<int64_t> widths{64, 128, 256, 512};  // "planes" per stage; outputs are planes * expansion
  int64_t stem_channels = 64;                      // conv1 output channels
  int64_t stem_kernel = 7;                         // 7x7 stride-2 conv1 as in the paper; small nets use 3
  int64_t num_classes = 1000;                      // 0: no avgpool / fc (a pure feature extractor)
  NormSpec norm;                                   // kFrozenBatchNorm: as torchvision's pretrained detectors
  int trainable_layers = 5;                        // torchvision resnet_fpn_backbone semantics, see below
  bool zero_init_residual = false;                 // torchvision's option: last norm of each block scaled by 0
  std::vector<std::string> out_features{"layer1", "layer2", "layer3", "layer4"};
};

/// Presets: depth 18, 34 (BasicBlock), 50, 101, 152 (Bottleneck) exactly as torchvision's resnetNN().
ResNetOptions resnet_options(int depth);
/// small_resnet: a from-scratch CPU backbone, ~0.7 M parameters without a head: 3x3 stride-2 stem with 16
/// channels + max pool, BasicBlock x [2, 2, 2, 2], widths 16/32/64/128, strides 4..32, num_classes 0.
ResNetOptions small_resnet_options();

/// What this represents: torchvision.models.ResNet (He et al. 2016), keys conv1 bn1 layer1..layer4 [fc]; as a
/// Backbone its outputs are layerK (stride 2^(K+1), channels widths[K-1] * expansion), any subset of them.
/// trainable_layers k in [0, 5]: as torchvision's _resnet_fpn_extractor, only parameters under the top k of
/// layer4, layer3, layer2, layer1, conv1 (k = 5 adds bn1) keep requires_grad; fc is never frozen.
/// Thread safety: see Backbone.
class ResNet : public Backbone {
 public:
  /*  requires: 4 stages, positive sizes, out_features a non-empty subset of layer1..layer4,
                trainable_layers in [0, 5]. */
  explicit ResNet(const ResNetOptions& options);

  std::map<std::string, torch::Tensor> forward(const torch::Tensor& images) override;
  std::map<std::string, ShapeSpec> output_shape() const override;
  int64_t num_classes() const override { return options_.num_classes; }
  torch::Tensor logits(const torch::Tensor& images) override;

  /// conv1 -> bn1 -> relu -> maxpool: N x stem_channels x ceil(H/4) x ceil(W/4).
  torch::Tensor stem(const torch::Tensor& images);
  /// Stage k in 1..4 (a Sequential of blocks; e.g. a Res5 RoI head reuses layer(4)).
  torch::nn::Sequential layer(int k) const;
  /// Output channels of stage k in 1..4.
  int64_t channels(int k) const;
  const ResNetOptions& options() const { return options_; }

 private:
  ResNetOptions options_;
  InferenceConv stem_;  // conv1 -> bn1
  std::vector<torch::nn::Sequential> layers_;
  torch::nn::Linear fc_{nullptr};
  int last_needed_ = 4;  // deepest stage forward() has to run
};

}  // namespace detlab
