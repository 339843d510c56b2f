// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ConvNormAct: torchvision.ops.misc.Conv2dNormActivation (conv "0", norm "1", activation without parameters).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

#include "nn/backbones/inference_conv.h"
#include "nn/backbones/norm.h"

namespace detlab {

enum class Activation { kNone, kReLU, kHardswish };

/// Applies the activation in place (as torchvision's inplace=True modules do) and returns x.
/// requires: x is not needed elsewhere in its pre-activation form.
torch::Tensor activate_(torch::Tensor x, Activation act);

struct ConvNormActOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel_size = 3;
  int64_t stride = 1;
  int64_t groups = 1;
  int64_t dilation = 1;
  NormSpec norm;                         // kind kNone: the convolution gets a bias (torchvision's rule)
  Activation activation = Activation::kReLU;
};

/// What this represents: torchvision's Conv2dNormActivation, with padding (kernel_size - 1) / 2 * dilation.
/// Parameter names: "0.weight" [+ "0.bias" without norm], "1.weight", "1.bias", "1.running_mean", ...
/// Thread safety: as any torch module (see Backbone).
class ConvNormActImpl : public torch::nn::Module {
 public:
  explicit ConvNormActImpl(const ConvNormActOptions& options);
  /*  requires: x N x in_channels x H x W.
      ensures:  N x out_channels x ((H + 2p - d(k-1) - 1) / stride + 1) x (same for W). */
  torch::Tensor forward(const torch::Tensor& x);

  const ConvNormActOptions& options() const { return options_; }
  torch::nn::Conv2d conv{nullptr};

 private:
  ConvNormActOptions options_;
  InferenceConv conv_norm_;  // conv -> norm (when there is one)
};
TORCH_MODULE(ConvNormAct);

/// Kaiming-normal (fan_out, ReLU gain) weights and zero biases for every Conv2d under `module`; ones / zeros
/// for BatchNorm2d affine parameters. This is the initialisation of torchvision's ResNet, VGG and MobileNet
/// convolutions (He et al. 2015).
void init_conv_kaiming_fan_out(torch::nn::Module& module);

}  // namespace detlab
