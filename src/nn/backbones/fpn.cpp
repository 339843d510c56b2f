// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FeaturePyramidNetwork (see fpn.h).
#include "nn/backbones/fpn.h"

#include <torch/nn/functional/upsampling.h>
#include <torch/nn/init.h>

namespace detlab {
namespace {

// torchvision's FPN initialisation: kaiming_uniform_(a=1) weights, zero biases.
void init_fpn_conv(torch::nn::Conv2dImpl& conv) {
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(conv.weight, /*a=*/1);
  if (conv.bias.defined()) conv.bias.zero_();
}

}  // namespace

FeaturePyramidNetworkImpl::FeaturePyramidNetworkImpl(std::vector<int64_t> in_channels, const FpnOptions& o)
    : options_(o), in_channels_(std::move(in_channels)) {
  TORCH_CHECK(!in_channels_.empty() && o.out_channels > 0, "FeaturePyramidNetwork: ", in_channels_.size(),
              " inputs, out_channels ", o.out_channels);
  auto inner = register_module("inner_blocks", std::make_shared<torch::nn::Module>("inner_blocks"));
  auto layer = register_module("layer_blocks", std::make_shared<torch::nn::Module>("layer_blocks"));
  for (size_t i = 0; i < in_channels_.size(); ++i) {
    TORCH_CHECK(in_channels_[i] > 0, "FeaturePyramidNetwork: in_channels[", i, "] = ", in_channels_[i]);
    inner_.push_back(inner->register_module(
        std::to_string(i),
        ConvNormAct(ConvNormActOptions{in_channels_[i], o.out_channels, 1, 1, 1, 1, o.norm, Activation::kNone})));
    layer_.push_back(layer->register_module(
        std::to_string(i),
        ConvNormAct(ConvNormActOptions{o.out_channels, o.out_channels, 3, 1, 1, 1, o.norm, Activation::kNone})));
    init_fpn_conv(*inner_.back()->conv);
    init_fpn_conv(*layer_.back()->conv);
  }
  if (o.extra == FpnOptions::Extra::kP6P7) {
    const int64_t p6_in = o.p6p7_from_c5 ? in_channels_.back() : o.out_channels;
    p6_from_p5_ = p6_in == o.out_channels;
    auto extra = register_module("extra_blocks", std::make_shared<torch::nn::Module>("extra_blocks"));
    auto conv3x3s2 = [](int64_t in, int64_t out) {
      return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(2).padding(1));
    };
    auto p6 = extra->register_module("p6", conv3x3s2(p6_in, o.out_channels));
    auto p7 = extra->register_module("p7", conv3x3s2(o.out_channels, o.out_channels));
    init_fpn_conv(*p6);
    init_fpn_conv(*p7);
    p6_ = InferenceConv(p6);
    p7_ = InferenceConv(p7);
  }
}

std::vector<torch::Tensor> FeaturePyramidNetworkImpl::forward(const std::vector<torch::Tensor>& x) {
  TORCH_CHECK(x.size() == in_channels_.size(), "FeaturePyramidNetwork: expected ", in_channels_.size(),
              " inputs, got ", x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    TORCH_CHECK(x[i].dim() == 4 && x[i].size(1) == in_channels_[i], "FeaturePyramidNetwork: input ", i,
                " should be N x ", in_channels_[i], " x H x W, got ", x[i].sizes());
  }
  const int n = static_cast<int>(x.size());
  std::vector<torch::Tensor> results(n);
  auto last_inner = inner_[n - 1]->forward(x[n - 1]);
  results[n - 1] = layer_[n - 1]->forward(last_inner);
  for (int i = n - 2; i >= 0; --i) {
    auto lateral = inner_[i]->forward(x[i]);
    namespace F = torch::nn::functional;
    auto top_down = F::interpolate(last_inner, F::InterpolateFuncOptions()
                                                   .size(std::vector<int64_t>{lateral.size(2), lateral.size(3)})
                                                   .mode(torch::kNearest));
    last_inner = lateral + top_down;
    results[i] = layer_[i]->forward(last_inner);
  }
  switch (options_.extra) {
    case FpnOptions::Extra::kNone: break;
    case FpnOptions::Extra::kMaxPool:
      results.push_back(torch::max_pool2d(results.back(), /*kernel_size=*/1, /*stride=*/2, /*padding=*/0));
      break;
    case FpnOptions::Extra::kP6P7: {
      auto p6 = p6_(p6_from_p5_ ? results.back() : x.back());
      auto p7 = p7_(torch::relu(p6));
      results.push_back(p6);
      results.push_back(p7);
      break;
    }
  }
  return results;
}

std::vector<std::string> FeaturePyramidNetworkImpl::extra_names() const {
  switch (options_.extra) {
    case FpnOptions::Extra::kMaxPool: return {"pool"};
    case FpnOptions::Extra::kP6P7: return {"p6", "p7"};
    case FpnOptions::Extra::kNone: break;
  }
  return {};
}

}  // namespace detlab
