// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RetinaNetHead: the class and box subnets of RetinaNet (Lin et al. 2017), torchvision's structure and names.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "nn/backbones/conv_norm_act.h"
#include "nn/backbones/norm.h"

namespace detlab {

struct RetinaNetHeadOptions {
  int64_t in_channels = 256;          // FPN width (every level)
  int64_t num_anchors = 9;            // per location: 3 scales x 3 aspect ratios (paper, section 4)
  int64_t num_classes = 0;            // sigmoid outputs, no background column
  int64_t num_convs = 4;              // 3x3 conv + ReLU layers in each subnet (paper: 4)
  double prior_probability = 0.01;    // pi: cls_logits bias = -log((1 - pi) / pi) (paper, section 4.1)
  NormSpec norm{NormKind::kNone};     // kNone: torchvision v1 (convolutions with bias)
};

/// One subnet: `conv.i` (Conv2dNormActivation: conv "0" [+ norm "1"], ReLU) followed by `cls_logits` or
/// `bbox_reg` (3x3). Outputs are gathered as torchvision does: (N, A*C, H, W) -> (N, H*W*A, C) per level,
/// levels concatenated. Weights N(0, 0.01), biases 0 except the class prior.
class RetinaNetSubnetImpl : public torch::nn::Module {
 public:
  RetinaNetSubnetImpl(const RetinaNetHeadOptions& options, int64_t columns, bool classification);
  /*  requires: maps N x in_channels x H_l x W_l.  ensures: N x (sum_l H_l W_l A) x columns. */
  torch::Tensor forward(const std::vector<torch::Tensor>& features);
  /// The same per level (N x H_l W_l A x columns each).
  std::vector<torch::Tensor> forward_levels(const std::vector<torch::Tensor>& features);
  int64_t columns() const { return columns_; }

 private:
  int64_t columns_;
  std::vector<ConvNormAct> convs_;
  InferenceConv out_;
};
TORCH_MODULE(RetinaNetSubnet);

/// What this represents: torchvision's RetinaNetHead: `classification_head.{conv.i.0, cls_logits}` and
/// `regression_head.{conv.i.0, bbox_reg}`, shared across FPN levels.
/// Thread safety: as any torch module.
class RetinaNetHeadImpl : public torch::nn::Module {
 public:
  /*  requires: positive sizes; 0 < prior_probability < 1. */
  explicit RetinaNetHeadImpl(const RetinaNetHeadOptions& options);

  struct Outputs {
    std::vector<torch::Tensor> cls_logits;       // per level: N x H_l W_l A x num_classes
    std::vector<torch::Tensor> bbox_regression;  // per level: N x H_l W_l A x 4
  };
  Outputs forward(const std::vector<torch::Tensor>& features);
  const RetinaNetHeadOptions& options() const { return options_; }

  RetinaNetSubnet classification_head{nullptr}, regression_head{nullptr};

 private:
  RetinaNetHeadOptions options_;
};
TORCH_MODULE(RetinaNetHead);

}  // namespace detlab
