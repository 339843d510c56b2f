// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// VGG (torchvision structure and parameter names) as a classifier and a detection backbone, plus small_vgg.
#pragma once

#include <torch/nn/modules/container/sequential.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nn/backbones/backbone.h"
#include "nn/backbones/inference_conv.h"

namespace detlab {

/// A VGG configuration entry that is a 2x2 max pool ("M" in torchvision's cfgs); other entries are the output
/// channels of a 3x3 convolution.
inline constexpr int64_t kVggPool = 0;

struct VggOptions {
  std::vector<int64_t> config;       // torchvision cfg with kVggPool for "M"; vgg_options() fills it
  bool batch_norm = false;           // vggNN_bn: BatchNorm2d after every convolution
  int64_t num_classes = 1000;        // 0: no avgpool / classifier (keeps VGG-16's 120 M fc weights out)
  int64_t hidden = 4096;             // width of the two hidden fully connected layers (fc6, fc7)
  int64_t pool_size = 7;             // adaptive average pool before the classifier: 7x7 as in torchvision
  double dropout = 0.5;              // torchvision's default
  int trainable_layers = -1;         // -1: all; k: only the last k conv stages (Fast R-CNN fine-tunes conv3+)
  std::vector<std::string> out_features{"conv5_3"};
};

/// Presets "vgg11", "vgg13", "vgg16", "vgg19" (torchvision cfgs A, B, D, E); batch_norm adds the _bn variant.
VggOptions vgg_options(int depth, bool batch_norm = false);
/// small_vgg: from-scratch CPU backbone, ~0.6 M parameters without a head: channels 16, 32, 64x2, 128x2,
/// 128x2 in five pooled stages (taps conv3_2, conv4_2, conv5_2, pool5), num_classes 0; with a head, a 1x1
/// pool and 256-wide hidden layers.
VggOptions small_vgg_options();

/// What this represents: torchvision.models.VGG (Simonyan & Zisserman 2015), keys features.N [classifier.N].
/// Tap names: convS_K is the ReLU output after the K-th convolution of stage S (stages end at max pools;
/// VGG-16's conv4_3 = features.22, conv5_3 = features.29), stride 2^(S-1); poolS is the S-th max pool's output,
/// stride 2^S. Max pools floor odd sizes, so size_divisibility() is the largest tapped stride.
/// Thread safety: see Backbone.
class Vgg : public Backbone {
 public:
  /*  requires: config non-empty, starts with a convolution; out_features known tap names;
                trainable_layers -1 or in [0, number of stages]. */
  explicit Vgg(const VggOptions& options);

  std::map<std::string, torch::Tensor> forward(const torch::Tensor& images) override;
  std::map<std::string, ShapeSpec> output_shape() const override;
  int64_t size_divisibility() const override;
  int64_t num_classes() const override { return options_.num_classes; }
  torch::Tensor logits(const torch::Tensor& images) override;

  /// All tap names with their shapes (out_features may pick any of them).
  const std::map<std::string, ShapeSpec>& available_features() const { return taps_; }
  torch::nn::Sequential features() const { return features_; }
  /// classifier.N (Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear); null without a head.
  torch::nn::Sequential classifier() const { return classifier_; }
  const VggOptions& options() const { return options_; }

 private:
  VggOptions options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Sequential classifier_{nullptr};
  std::map<std::string, ShapeSpec> taps_;    // every tap
  std::map<size_t, std::string> tap_index_;  // features index -> tap name, for the requested taps only
  std::map<size_t, InferenceConv> convs_;    // features index of each convolution -> it with its BatchNorm2d
  size_t last_needed_ = 0;
};

}  // namespace detlab
