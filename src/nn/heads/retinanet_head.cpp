// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RetinaNetHead (see retinanet_head.h).
#include "nn/heads/retinanet_head.h"

#include <torch/nn/init.h>

#include <cmath>

namespace detlab {

RetinaNetSubnetImpl::RetinaNetSubnetImpl(const RetinaNetHeadOptions& o, int64_t columns, bool classification)
    : columns_(columns) {
  auto conv = register_module("conv", std::make_shared<torch::nn::Module>("conv"));
  torch::NoGradGuard no_grad;
  for (int64_t i = 0; i < o.num_convs; ++i) {
    convs_.push_back(conv->register_module(
        std::to_string(i),
        ConvNormAct(ConvNormActOptions{o.in_channels, o.in_channels, 3, 1, 1, 1, o.norm, Activation::kReLU})));
    torch::nn::init::normal_(convs_.back()->conv->weight, 0.0, 0.01);
    if (convs_.back()->conv->bias.defined()) convs_.back()->conv->bias.zero_();
  }
  auto out = register_module(classification ? "cls_logits" : "bbox_reg",
                             torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, o.num_anchors * columns, 3)
                                                   .padding(1)));
  torch::nn::init::normal_(out->weight, 0.0, 0.01);
  // The class prior keeps the initial foreground probability at pi, so that the many easy negatives do not
  // swamp the first iterations (paper, section 4.1 "Initialization").
  out->bias.fill_(classification ? -std::log((1.0 - o.prior_probability) / o.prior_probability) : 0.0);
  out_ = InferenceConv(out);
}

std::vector<torch::Tensor> RetinaNetSubnetImpl::forward_levels(const std::vector<torch::Tensor>& features) {
  std::vector<torch::Tensor> out;
  out.reserve(features.size());
  for (const auto& f : features) {
    torch::Tensor x = f;
    for (auto& c : convs_) x = c->forward(x);
    x = out_(x);
    const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
    out.push_back(x.view({n, -1, columns_, h, w}).permute({0, 3, 4, 1, 2}).reshape({n, -1, columns_}));
  }
  return out;
}

torch::Tensor RetinaNetSubnetImpl::forward(const std::vector<torch::Tensor>& features) {
  return torch::cat(forward_levels(features), 1);
}

RetinaNetHeadImpl::RetinaNetHeadImpl(const RetinaNetHeadOptions& o) : options_(o) {
  TORCH_CHECK(o.in_channels > 0 && o.num_anchors > 0 && o.num_classes > 0 && o.num_convs >= 0,
              "RetinaNetHead: in_channels=", o.in_channels, " num_anchors=", o.num_anchors,
              " num_classes=", o.num_classes, " num_convs=", o.num_convs);
  TORCH_CHECK(o.prior_probability > 0 && o.prior_probability < 1, "RetinaNetHead: prior_probability must be in (0, 1), "
              "got ", o.prior_probability);
  classification_head = register_module("classification_head", RetinaNetSubnet(o, o.num_classes, true));
  regression_head = register_module("regression_head", RetinaNetSubnet(o, 4, false));
}

RetinaNetHeadImpl::Outputs RetinaNetHeadImpl::forward(const std::vector<torch::Tensor>& features) {
  return {classification_head->forward_levels(features), regression_head->forward_levels(features)};
}

}  // namespace detlab
