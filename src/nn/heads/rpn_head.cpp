// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RpnHead (see rpn_head.h).
#include "nn/heads/rpn_head.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/container/sequential.h>

namespace detlab {

RpnHeadImpl::RpnHeadImpl(const RpnHeadOptions& o) : options_(o) {
  TORCH_CHECK(o.in_channels > 0 && o.num_anchors > 0 && o.conv_depth >= 1, "RpnHead: invalid options in_channels=",
              o.in_channels, " num_anchors=", o.num_anchors, " conv_depth=", o.conv_depth);
  conv_ = torch::nn::Sequential();
  for (int64_t i = 0; i < o.conv_depth; ++i) {
    ConvNormActOptions c;
    c.in_channels = c.out_channels = o.in_channels;
    c.kernel_size = 3;
    c.norm.kind = NormKind::kNone;  // torchvision: Conv2dNormActivation(..., norm_layer=None) -> conv with bias
    convs_.push_back(ConvNormAct(c));
    conv_->push_back(convs_.back());
  }
  register_module("conv", conv_);
  cls_logits_ = register_module("cls_logits", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, o.num_anchors, 1)));
  bbox_pred_ =
      register_module("bbox_pred", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels, 4 * o.num_anchors, 1)));
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2dImpl>()) {
      torch::nn::init::normal_(conv->weight, 0.0, 0.01);  // torchvision's RPNHead initialisation
      if (conv->bias.defined()) torch::nn::init::constant_(conv->bias, 0.0);
    }
  }
}

std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>> RpnHeadImpl::forward(
    const std::vector<torch::Tensor>& features) {
  std::vector<torch::Tensor> logits, deltas;
  logits.reserve(features.size());
  deltas.reserve(features.size());
  for (const torch::Tensor& f : features) {
    TORCH_CHECK(f.dim() == 4 && f.size(1) == options_.in_channels, "RpnHead: expected N x ", options_.in_channels,
                " x H x W features, got ", f.sizes());
    torch::Tensor t = f;
    for (auto& c : convs_) t = c->forward(t);
    logits.push_back(cls_logits_->forward(t));
    deltas.push_back(bbox_pred_->forward(t));
  }
  return {logits, deltas};
}

}  // namespace detlab
