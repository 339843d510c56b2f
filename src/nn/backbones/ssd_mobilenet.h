// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SsdLiteMobileNet: SSDlite's MobileNetV3 feature extractor with its extra blocks, torchvision names.
#pragma once

#include <torch/nn/modules/container/modulelist.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nn/backbones/backbone.h"
#include "nn/backbones/conv_norm_act.h"
#include "nn/backbones/mobilenet_v3.h"
#include "nn/weights/state_dict.h"

namespace detlab {

/// ReLU6 in place (torchvision's nn.ReLU6(inplace=True), i.e. hardtanh_(x, 0, 6)); returns x.
torch::Tensor relu6_(torch::Tensor x);

/// BatchNorm of every SSDlite layer in torchvision: eps 0.001, momentum 0.03 (the TF Object Detection API's).
inline constexpr NormSpec kSsdLiteNorm{NormKind::kBatchNorm, 0.001, 0.03};

struct SsdLiteMobileNetOptions {
  MobileNetV3Options mobilenet = [] {
    MobileNetV3Options o;
    o.num_classes = 0;
    o.reduced_tail = true;  // torchvision halves C4 / C5 when the backbone is not ImageNet-pretrained
    o.norm = kSsdLiteNorm;
    return o;
  }();
  /// Output channels of the four extra blocks (times extra_width_mult, at least min_depth): MobileNetV2
  /// paper, section 6.2 (SSDLite), as torchvision builds them.
  std::vector<int64_t> extra_channels{512, 256, 256, 128};
  double extra_width_mult = 1.0;  // torchvision always passes 1.0 here, whatever the backbone's width
  int64_t min_depth = 16;
  NormSpec norm = kSsdLiteNorm;   // extra blocks
  double init_std = 0.03;         // torchvision's _normal_init (convolutions, when not pretrained); <= 0: keep
};

/// torchvision's ssdlite320_mobilenet_v3_large backbone (random init: reduced tail).
SsdLiteMobileNetOptions ssdlite320_mobilenet_v3_large_extractor_options();

/// What this represents: torchvision's SSDLiteFeatureExtractorMobileNet (MobileNetV3 paper, section 6.3). The
/// MobileNetV3 `features` are split inside the last strided block C4: `features.0` = blocks 0 .. C4-1 plus C4's
/// expansion conv (map "0", stride 16), `features.1` = the rest of C4 (`features.1.0.1..3`), the later blocks
/// and the last conv (map "1", stride 32); `extra.0..3` are 1x1 -> 3x3 depthwise stride 2 -> 1x1 blocks with
/// ReLU6 (maps "2".."5"). Keys equal torchvision's. The layers are those of a MobileNetV3 built from
/// options.mobilenet (composed, not copied).
/// Thread safety: see Backbone.
class SsdLiteMobileNet : public Backbone {
 public:
  explicit SsdLiteMobileNet(const SsdLiteMobileNetOptions& options);

  std::map<std::string, torch::Tensor> forward(const torch::Tensor& images) override;
  std::map<std::string, ShapeSpec> output_shape() const override { return shapes_; }
  /// The maps in order ("0", "1", ...).
  std::vector<torch::Tensor> forward_list(const torch::Tensor& images);

  const SsdLiteMobileNetOptions& options() const { return options_; }
  /// How a torchvision MobileNetV3 classifier checkpoint loads into this extractor: "features.i" -> "features.0.i"
  /// before C4, C4's "block.0" -> "features.0.C4", its "block.j" -> "features.1.0.j", later blocks ->
  /// "features.1.k"; the classifier is dropped and the extra blocks are left as initialised. (torchvision's ImageNet
  /// weights have the full tail: use reduced_tail = false with them.)
  LoadOptions classifier_load_options() const { return classifier_load_; }

 private:
  LoadOptions classifier_load_;
  using Step = std::function<torch::Tensor(const torch::Tensor&)>;
  SsdLiteMobileNetOptions options_;
  std::vector<std::vector<Step>> stages_;  // features.0, features.1, extra.0, ... each a list of steps
  std::map<std::string, ShapeSpec> shapes_;
};

}  // namespace detlab
