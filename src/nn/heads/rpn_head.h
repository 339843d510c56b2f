// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RpnHead: the RPN's shared 3x3 conv and its objectness / box-delta 1x1 convs (torchvision's RPNHead).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "nn/backbones/conv_norm_act.h"

namespace detlab {

struct RpnHeadOptions {
  int64_t in_channels = 256;  // FPN width (every level); a C4 backbone's channels otherwise
  int64_t num_anchors = 3;    // per location: 3 aspect ratios per FPN level (15 = 3 x 5 on one C4 map)
  int64_t conv_depth = 1;     // 3x3 conv + ReLU layers before the 1x1 predictors (Ren et al. 2015: one)
};

/// What this represents: the sliding network of Ren et al. 2015 (section 3.1): n x n (3 x 3) conv + ReLU shared
/// over locations and levels, then sibling 1x1 convs for A objectness logits and 4A box deltas. Parameter names
/// are torchvision 0.14's: conv.<i>.0.{weight,bias} (Conv2dNormActivation without norm), cls_logits.*,
/// bbox_pred.*; weights N(0, 0.01), biases 0 as torchvision initialises them.
/// Thread safety: as any torch module.
class RpnHeadImpl : public torch::nn::Module {
 public:
  /*  requires: positive sizes. */
  explicit RpnHeadImpl(const RpnHeadOptions& options);

  /*  requires: features[l] N x in_channels x H_l x W_l.
      ensures:  (objectness[l] N x A x H_l x W_l, deltas[l] N x 4A x H_l x W_l) per level. */
  std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> forward(const std::vector<torch::Tensor>& features);

  const RpnHeadOptions& options() const { return options_; }

 private:
  RpnHeadOptions options_;
  std::vector<ConvNormAct> convs_;
  torch::nn::Sequential conv_{nullptr};
  torch::nn::Conv2d cls_logits_{nullptr}, bbox_pred_{nullptr};
};
TORCH_MODULE(RpnHead);

}  // namespace detlab
