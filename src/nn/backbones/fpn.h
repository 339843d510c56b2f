// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Feature Pyramid Network exactly as torchvision.ops.FeaturePyramidNetwork, with its two extra-level blocks.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nn/backbones/conv_norm_act.h"
#include "nn/backbones/norm.h"

namespace detlab {

struct FpnOptions {
  int64_t out_channels = 256;  // d = 256 in Lin et al. 2017 and every torchvision FPN detector
  enum class Extra {
    kNone,
    kMaxPool,  // LastLevelMaxPool: "pool" = max_pool2d(P_last, 1, 2) (Faster / Mask R-CNN)
    kP6P7,     // LastLevelP6P7: "p6" = conv3x3/2(P5 or C5), "p7" = conv3x3/2(relu(p6)) (RetinaNet, FCOS)
  };
  Extra extra = Extra::kMaxPool;
  // P6 input for kP6P7: false = P5 (torchvision LastLevelP6P7(256, 256), RetinaNet v1), true = C5
  // (LastLevelP6P7(2048, 256), RetinaNet v2). As in torchvision, P5 is used whenever C5 has out_channels
  // channels, since it decides by in_channels == out_channels.
  bool p6p7_from_c5 = false;
  NormSpec norm{NormKind::kNone};  // kBatchNorm: the v2 detectors' FPN (convolutions then lose their bias)
  std::vector<std::string> in_features;  // BackboneWithFpn only: body outputs used; empty = all, by stride
};

/// What this represents: the top-down pathway with lateral connections of Lin et al. 2017, as torchvision
/// builds it: inner_blocks.i (1x1 lateral, Conv2dNormActivation "inner_blocks.i.0"), layer_blocks.i (3x3
/// output conv), nearest-neighbour upsampling to the lateral's size (any input size works), extra_blocks.
/// Thread safety: as any torch module.
class FeaturePyramidNetworkImpl : public torch::nn::Module {
 public:
  /*  requires: in_channels non-empty and positive; out_channels > 0. */
  FeaturePyramidNetworkImpl(std::vector<int64_t> in_channels, const FpnOptions& options);
  /*  requires: x.size() == in_channels.size(); x[i] N x in_channels[i] x H_i x W_i, finest first.
      ensures:  x.size() + extra_names().size() maps, each N x out_channels; result i has x[i]'s size; the
                extra levels halve the last size each (ceil). */
  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& x);
  /// Names of the extra levels appended by forward(): {"pool"}, {"p6", "p7"} or {}.
  std::vector<std::string> extra_names() const;
  const FpnOptions& options() const { return options_; }

 private:
  FpnOptions options_;
  std::vector<int64_t> in_channels_;
  std::vector<ConvNormAct> inner_, layer_;
  InferenceConv p6_, p7_;
  bool p6_from_p5_ = true;
};
TORCH_MODULE(FeaturePyramidNetwork);

}  // namespace detlab
