// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// MobileNetV3 Large / Small (torchvision structure and names) as a classifier and a detection backbone.
#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nn/backbones/backbone.h"
#include "nn/backbones/conv_norm_act.h"

namespace detlab {

struct MobileNetV3Options {
  enum class Arch { kLarge, kSmall };
  Arch arch = Arch::kLarge;
  double width_mult = 1.0;     // channel multiplier; channels rounded to multiples of 8 (torchvision)
  bool reduced_tail = false;   // torchvision option: halves the channels of the last stage (C4, C5)
  bool dilated = false;        // torchvision option: last stage dilated instead of strided (stride 16)
  int64_t num_classes = 1000;  // 0: no avgpool / classifier
  double dropout = 0.2;        // torchvision's default
  // torchvision's MobileNetV3 BatchNorm: eps 0.001, momentum 0.01 (the TF reference values)
  NormSpec norm{NormKind::kBatchNorm, 0.001, 0.01};
  int trainable_layers = -1;   // -1: all; k: torchvision's _mobilenet_extractor rule over the stage ends
  std::vector<std::string> out_features;  // empty: the last two stage ends (see below)
};

/// What this represents: torchvision.models.MobileNetV3 (Howard et al. 2019): keys features.0 (stem),
/// features.1..n-2 (inverted residual blocks, features.i.block.j, SE as fc1/fc2), features.n-1 (last conv),
/// classifier.0 / classifier.3. Taps: "features.i" (the output of block i) for every i, and
/// "features.i.block.0" (the expansion output) for blocks that expand. Defaults are torchvision's detection
/// taps: fasterrcnn_mobilenet_v3_large_fpn uses the last two stage ends, features.13 (160 ch) and features.16
/// (960 ch), both stride 32 for Large; ssdlite320 uses features.13.block.0 (672 ch, stride 16) and features.16.
/// Thread safety: see Backbone.
class MobileNetV3 : public Backbone {
 public:
  explicit MobileNetV3(const MobileNetV3Options& options);

  std::map<std::string, torch::Tensor> forward(const torch::Tensor& images) override;
  std::map<std::string, ShapeSpec> output_shape() const override;
  int64_t num_classes() const override { return options_.num_classes; }
  torch::Tensor logits(const torch::Tensor& images) override;

  const std::map<std::string, ShapeSpec>& available_features() const { return taps_; }
  /// torchvision's stage_indices: 0, every strided block, the last conv (trainable_layers counts these).
  const std::vector<int>& stage_indices() const { return stage_indices_; }
  const MobileNetV3Options& options() const { return options_; }

 private:
  struct Tap {
    int index = 0;          // features index
    bool expansion = false; // the output of block.0 inside it, not of the whole block
    std::string name;
  };
  torch::Tensor run_features(torch::Tensor x, int last, const std::vector<Tap>& taps,
                             std::map<std::string, torch::Tensor>* out);

  MobileNetV3Options options_;
  std::vector<std::shared_ptr<torch::nn::Module>> features_;  // ConvNormActImpl or InvertedResidualImpl
  std::map<std::string, ShapeSpec> taps_;
  std::vector<Tap> wanted_;
  std::vector<int> stage_indices_;
  torch::nn::Linear fc0_{nullptr}, fc3_{nullptr};
  int last_needed_ = 0;
};

/// torchvision's _make_divisible(v, 8): round to the nearest multiple of `divisor`, never below 90% of v.
int64_t make_divisible(double v, int64_t divisor = 8);

}  // namespace detlab
