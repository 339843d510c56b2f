// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The Backbone interface: a module whose contract is the shape of its named feature maps (detectron2 style).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace detlab {

/// Channels and stride (w.r.t. the input image) of one named feature map.
struct ShapeSpec {
  int64_t channels = 0;
  int64_t stride = 0;
};

/// ImageNet statistics (RGB, images in [0, 1]) that torchvision's pretrained weights expect; inputs to a
/// backbone loaded with those weights are (x - mean) / std per channel.
inline constexpr std::array<float, 3> kImageNetMean{0.485f, 0.456f, 0.406f};
inline constexpr std::array<float, 3> kImageNetStd{0.229f, 0.224f, 0.225f};

/// What this represents: a convolutional network that maps images to a set of named feature maps (e.g.
/// ResNet "layer1".."layer4", VGG "conv5_3", FPN "0".."3","pool"); detectors read those maps. Backbones that
/// were built with a classification head (num_classes() > 0) also give logits, so that the same module serves
/// torchvision parity checks and visualisation (CAM, class images).
/// Parameter / buffer names equal torchvision's state_dict keys where a torchvision twin exists.
/// Thread safety: forward() in eval mode under NoGradGuard may run concurrently on one instance; training mode
/// (BatchNorm running statistics) may not.
class Backbone : public torch::nn::Module {
 public:
  /*  requires: images N x 3 x H x W, normalized; H, W divisible by size_divisibility() (if > 0).
      ensures:  keys == keys of output_shape(); out[k] is N x channels(k) x ceil(H/stride) x ceil(W/stride). */
  virtual std::map<std::string, torch::Tensor> forward(const torch::Tensor& images) = 0;
  virtual std::map<std::string, ShapeSpec> output_shape() const = 0;
  /// 0: any input size gives the shapes above; otherwise H and W must be multiples of it.
  virtual int64_t size_divisibility() const { return 0; }

  /// Number of classes of the classification head; 0 when the backbone was built without one.
  virtual int64_t num_classes() const { return 0; }
  /*  requires: num_classes() > 0; images as for forward().
      ensures:  N x num_classes() logits (the torchvision classifier's full forward). */
  virtual torch::Tensor logits(const torch::Tensor& images) {
    TORCH_CHECK(false, "this backbone was built without a classification head (num_classes = 0)");
  }
};

/// Names of output_shape() ordered by stride (then name): the order an FPN consumes them in.
inline std::vector<std::string> features_by_stride(const std::map<std::string, ShapeSpec>& shapes) {
  std::vector<std::string> names;
  for (const auto& kv : shapes) names.push_back(kv.first);
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return shapes.at(a).stride < shapes.at(b).stride;
  });
  return names;
}

}  // namespace detlab
