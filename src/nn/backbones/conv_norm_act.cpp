// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ConvNormAct and the shared convolution initialisation (see conv_norm_act.h).
#include "nn/backbones/conv_norm_act.h"

#include <torch/nn/init.h>

namespace detlab {

torch::Tensor activate_(torch::Tensor x, Activation act) {
  switch (act) {
    case Activation::kNone: return x;
    case Activation::kReLU: return x.relu_();
    case Activation::kHardswish: return torch::hardswish_(x);
  }
  return x;
}

ConvNormActImpl::ConvNormActImpl(const ConvNormActOptions& o) : options_(o) {
  TORCH_CHECK(o.in_channels > 0 && o.out_channels > 0 && o.kernel_size > 0 && o.stride > 0 && o.groups > 0 &&
                  o.dilation > 0,
              "ConvNormAct: invalid options in=", o.in_channels, " out=", o.out_channels, " k=", o.kernel_size,
              " stride=", o.stride, " groups=", o.groups, " dilation=", o.dilation);
  const bool with_norm = o.norm.kind != NormKind::kNone;
  conv = register_module("0", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, o.out_channels, o.kernel_size)
                                                    .stride(o.stride)
                                                    .padding((o.kernel_size - 1) / 2 * o.dilation)
                                                    .dilation(o.dilation)
                                                    .groups(o.groups)
                                                    .bias(!with_norm)));
  conv_norm_ = InferenceConv(conv, with_norm ? Norm2d(*this, "1", o.out_channels, o.norm) : Norm2d());
}

torch::Tensor ConvNormActImpl::forward(const torch::Tensor& x) {
  return activate_(conv_norm_(x), options_.activation);
}

void init_conv_kaiming_fan_out(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  // modules(include_self=true) needs a shared_ptr to `module`, which a constructor calling this does not have.
  std::vector<torch::nn::Module*> all{&module};
  for (auto& m : module.modules(/*include_self=*/false)) all.push_back(m.get());
  for (auto* m : all) {
    if (auto* conv = m->as<torch::nn::Conv2dImpl>()) {
      torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanOut, torch::kReLU);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
      if (bn->weight.defined()) bn->weight.fill_(1);
      if (bn->bias.defined()) bn->bias.zero_();
    }
  }
}

}  // namespace detlab
