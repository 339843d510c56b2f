// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SsdVgg: SSD's VGG feature extractor (L2Norm on conv4_3, atrous fc6 / fc7, extra layers), torchvision names.
#pragma once

#include <torch/nn/modules/container/any.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nn/backbones/backbone.h"
#include "nn/backbones/vgg.h"
#include "nn/weights/state_dict.h"

namespace detlab {

/// One extra feature layer of SSD: 1x1 conv to mid_channels + ReLU, kxk conv to out_channels + ReLU.
struct SsdExtraLayer {
  int64_t mid_channels = 256;
  int64_t out_channels = 512;
  int64_t kernel = 3;
  int64_t stride = 2;
  int64_t padding = 1;
};

struct SsdVggOptions {
  VggOptions vgg = vgg_options(16);  // its features up to the 4th pool feed map "0"; num_classes is ignored
  int64_t fc_channels = 1024;        // fc6 / fc7 as convolutions (SSD paper: VGG's fully connected layers)
  int64_t fc_dilation = 6;           // atrous fc6 (SSD paper, section 3, "Base network")
  /// conv8_2 .. conv11_2 of SSD300 (Liu et al. 2016, Fig. 2): 19 -> 10 -> 5 -> 3 -> 1 on a 300 px input.
  std::vector<SsdExtraLayer> extras = {{256, 512, 3, 2, 1}, {128, 256, 3, 2, 1}, {128, 256, 3, 1, 0},
                                       {128, 256, 3, 1, 0}};
  double l2_scale = 20;  // initial L2Norm scale of conv4_3 (ParseNet, Liu et al. 2015; SSD section 3)
};

/// torchvision's ssd300_vgg16 backbone (VGG-16, 1024-channel fc layers, the four SSD300 extras).
SsdVggOptions ssd300_vgg16_extractor_options();
/// A from-scratch CPU variant on small_vgg (16..128 channels): fc layers of 256 channels, dilation 2 (its maps
/// are small), and four stride-2 extras (128 / 128 / 128 / 128 outputs), so that a 256-320 px input still has
/// six maps, the last one 1 x 1 or 2 x 2.
SsdVggOptions small_ssd_vgg_extractor_options();

/// What this represents: torchvision's SSDFeatureExtractorVGG (Liu et al. 2016). The VGG `features` are split
/// at the 4th max pool: `features.*` (up to conv4_3's ReLU, with pool3 in ceil mode so 300 px gives 38 x 38) feed
/// map "0" through an L2 normalisation with a learned per-channel scale (`scale_weight`); `extra.0` holds pool4,
/// conv5_x, a 3x3 stride-1 pool5 and the atrous fc6 / fc7 (`extra.0.7.1`, `extra.0.7.3`) and gives map "1";
/// `extra.1..` give maps "2".. . Keys equal torchvision's (`backbone.features.0.weight`, `backbone.extra.0.7.1.
/// weight`, `backbone.scale_weight`, ...). The VGG layers are those of a Vgg built from options.vgg (composed,
/// not copied), with its initialisation (Kaiming); fc and extra layers get Xavier-uniform weights and zero biases
/// as in torchvision.
/// Strides in output_shape() are nominal (2^pools times the extras' strides); valid-padded extras shrink maps by
/// 2 pixels, so the maps' sizes are given by the input, not by ceil(H / stride).
/// Thread safety: see Backbone.
class SsdVgg : public Backbone {
 public:
  /*  requires: options.vgg has at least 4 max pools; every extra layer positive. */
  explicit SsdVgg(const SsdVggOptions& options);

  /*  ensures: maps "0" .. "k" (k = extras.size() + 1), finest first. */
  std::map<std::string, torch::Tensor> forward(const torch::Tensor& images) override;
  std::map<std::string, ShapeSpec> output_shape() const override { return shapes_; }
  /// The maps in order ("0", "1", ...): forward()'s keys sorted by level.
  std::vector<torch::Tensor> forward_list(const torch::Tensor& images);

  const SsdVggOptions& options() const { return options_; }
  /// How a torchvision VGG classifier checkpoint ("features.N", "classifier.N") loads into this extractor:
  /// features before pool4 keep their keys, pool4 .. conv5_3 move to "extra.0.K", the classifier is dropped and
  /// SSD's own layers (fc6 / fc7, extras, scale_weight) are left as initialised. Strict otherwise.
  LoadOptions classifier_load_options() const { return classifier_load_; }

 private:
  LoadOptions classifier_load_;
  SsdVggOptions options_;
  using Layer = std::function<torch::Tensor(const torch::Tensor&)>;  // a registered module's forward
  std::vector<std::vector<Layer>> stages_;  // features, extra.0 (its fc block flattened), extra.1..
  torch::Tensor scale_weight_;
  std::map<std::string, ShapeSpec> shapes_;
};

}  // namespace detlab
