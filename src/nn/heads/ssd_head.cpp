// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SsdHead (see ssd_head.h).
#include "nn/heads/ssd_head.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/conv.h>

#include "nn/backbones/conv_norm_act.h"
#include "nn/backbones/ssd_mobilenet.h"

namespace detlab {

SsdScoringHeadImpl::SsdScoringHeadImpl(const SsdHeadOptions& o, int64_t columns) : columns_(columns) {
  TORCH_CHECK(!o.in_channels.empty() && o.in_channels.size() == o.num_anchors.size(), "SsdHead: ",
              o.in_channels.size(), " input maps but ", o.num_anchors.size(), " anchor counts");
  module_list_ = register_module("module_list", torch::nn::ModuleList());
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < o.in_channels.size(); ++k) {
    const int64_t in = o.in_channels[k], out = columns * o.num_anchors[k];
    TORCH_CHECK(in > 0 && o.num_anchors[k] > 0, "SsdHead: map ", k, " has ", in, " channels and ", o.num_anchors[k],
                " anchors");
    if (o.kind == SsdHeadOptions::Kind::kConv) {
      torch::nn::Conv2d conv(torch::nn::Conv2dOptions(in, out, 3).padding(1));
      torch::nn::init::xavier_uniform_(conv->weight);  // torchvision's _xavier_init
      conv->bias.zero_();
      module_list_->push_back(conv);
      predictors_.push_back(InferenceConv(conv));
    } else {
      // torchvision's _prediction_block: Sequential(Conv2dNormActivation(depthwise, ReLU6), Conv2d 1x1).
      auto block = std::make_shared<torch::nn::Module>("prediction_block");
      ConvNormAct dw(ConvNormActOptions{in, in, 3, 1, in, 1, o.norm, Activation::kNone});
      torch::nn::Conv2d pw(torch::nn::Conv2dOptions(in, out, 1));
      block->register_module("0", dw);
      block->register_module("1", pw);
      for (auto* conv : {dw->conv.get(), pw.get()}) {
        torch::nn::init::normal_(conv->weight, 0.0, o.lite_init_std);  // torchvision's _normal_init
        if (conv->bias.defined()) conv->bias.zero_();
      }
      module_list_->push_back(block);
      predictors_.push_back([dw, pw = InferenceConv(pw)](const torch::Tensor& x) { return pw(relu6_(dw.ptr()->forward(x))); });
    }
  }
}

torch::Tensor SsdScoringHeadImpl::forward(const std::vector<torch::Tensor>& features) {
  TORCH_CHECK(features.size() == predictors_.size(), "SsdHead: ", features.size(), " feature maps for ",
              predictors_.size(), " predictors");
  std::vector<torch::Tensor> all;
  all.reserve(features.size());
  for (size_t k = 0; k < features.size(); ++k) {
    torch::Tensor r = predictors_[k](features[k]);
    const int64_t n = r.size(0), h = r.size(2), w = r.size(3);
    // (N, A*C, H, W) -> (N, A, C, H, W) -> (N, H, W, A, C) -> (N, HWA, C), as torchvision.
    all.push_back(r.view({n, -1, columns_, h, w}).permute({0, 3, 4, 1, 2}).reshape({n, -1, columns_}));
  }
  return torch::cat(all, 1);
}

SsdHeadImpl::SsdHeadImpl(const SsdHeadOptions& o) : options_(o) {
  TORCH_CHECK(o.num_classes >= 2, "SsdHead: num_classes (with background) must be >= 2, got ", o.num_classes);
  classification_head = register_module("classification_head", SsdScoringHead(o, o.num_classes));
  regression_head = register_module("regression_head", SsdScoringHead(o, 4));
}

SsdHeadImpl::Outputs SsdHeadImpl::forward(const std::vector<torch::Tensor>& features) {
  return {classification_head->forward(features), regression_head->forward(features)};
}

}  // namespace detlab
