// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ResNet residual blocks with torchvision's names: BasicBlock (ResNet-18/34) and Bottleneck (ResNet-50+).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>

#include "nn/backbones/inference_conv.h"
#include "nn/backbones/norm.h"

namespace detlab {

/// What this represents: two 3x3 convolutions with a shortcut (He et al. 2016, Fig. 2 left).
/// Names: conv1 bn1 conv2 bn2 [downsample.0 downsample.1]; the stride sits on conv1.
class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  /*  requires: inplanes, planes > 0; stride 1 or 2.
      ensures:  output channels planes * kExpansion; a 1x1 projection shortcut iff stride != 1 or the channel
                count changes. */
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, const NormSpec& norm);
  /*  requires: x N x inplanes x H x W.  ensures: N x planes x ceil(H/stride) x ceil(W/stride). */
  torch::Tensor forward(const torch::Tensor& x);
  /// The normalisation whose scale starts at 0 with zero_init_residual (torchvision's bn2).
  void zero_init_last_norm();

 private:
  InferenceConv conv_bn1_, conv_bn2_, downsample_;  // downsample_ empty: identity shortcut
};
TORCH_MODULE(BasicBlock);

/// What this represents: 1x1 reduce, 3x3, 1x1 expand (x4) with a shortcut (He et al. 2016, Fig. 5 right); the
/// stride sits on the 3x3 convolution ("ResNet v1.5", as in torchvision).
/// Names: conv1 bn1 conv2 bn2 conv3 bn3 [downsample.0 downsample.1].
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, const NormSpec& norm);
  /*  requires: x N x inplanes x H x W.  ensures: N x 4*planes x ceil(H/stride) x ceil(W/stride). */
  torch::Tensor forward(const torch::Tensor& x);
  void zero_init_last_norm();  // bn3

 private:
  InferenceConv conv_bn1_, conv_bn2_, conv_bn3_, downsample_;  // downsample_ empty: identity shortcut
};
TORCH_MODULE(Bottleneck);

}  // namespace detlab
