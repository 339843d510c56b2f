// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SsdHead: SSD's per-map class and box predictors (plain 3x3 convs, or SSDlite's depthwise-separable blocks).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "nn/backbones/norm.h"

namespace detlab {

struct SsdHeadOptions {
  enum class Kind {
    kConv,  // SSD: one 3x3 conv per map and output (Liu et al. 2016), Xavier-uniform init
    kLite,  // SSDlite: 3x3 depthwise conv + BN + ReLU6, then a 1x1 conv (MobileNetV2 paper, section 6.2)
  };
  Kind kind = Kind::kConv;
  std::vector<int64_t> in_channels;   // channels of each feature map
  std::vector<int64_t> num_anchors;   // default boxes per location of each map
  int64_t num_classes = 0;            // columns of the class logits, background included (index 0)
  NormSpec norm{NormKind::kBatchNorm, 0.001, 0.03};  // kLite's BatchNorm (torchvision's SSDlite values)
  double lite_init_std = 0.03;        // kLite: torchvision's _normal_init of the head convolutions
};

/// One of the two predictors: module_list.k maps feature map k to A_k * columns channels, and forward()
/// gathers them as torchvision's SSDScoringHead: (N, A*C, H, W) -> (N, H*W*A, C), maps concatenated.
class SsdScoringHeadImpl : public torch::nn::Module {
 public:
  SsdScoringHeadImpl(const SsdHeadOptions& options, int64_t columns);
  /*  requires: one map per module, map k N x in_channels[k] x H_k x W_k.
      ensures:  N x (sum_k H_k W_k A_k) x columns. */
  torch::Tensor forward(const std::vector<torch::Tensor>& features);
  int64_t columns() const { return columns_; }

 private:
  int64_t columns_;
  torch::nn::ModuleList module_list_{nullptr};
  std::vector<std::function<torch::Tensor(const torch::Tensor&)>> predictors_;
};
TORCH_MODULE(SsdScoringHead);

/// What this represents: torchvision's SSDHead / SSDLiteHead: `classification_head.module_list.k` (class logits,
/// num_classes columns) and `regression_head.module_list.k` (4 box deltas per default box).
/// Thread safety: as any torch module.
class SsdHeadImpl : public torch::nn::Module {
 public:
  /*  requires: in_channels and num_anchors of equal, non-zero length, positive; num_classes >= 2. */
  explicit SsdHeadImpl(const SsdHeadOptions& options);

  struct Outputs {
    torch::Tensor cls_logits;       // N x A_total x num_classes
    torch::Tensor bbox_regression;  // N x A_total x 4
  };
  Outputs forward(const std::vector<torch::Tensor>& features);
  const SsdHeadOptions& options() const { return options_; }

  SsdScoringHead classification_head{nullptr}, regression_head{nullptr};

 private:
  SsdHeadOptions options_;
};
TORCH_MODULE(SsdHead);

}  // namespace detlab
