// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// YoloV1Head: head convolutions, pooling to the grid, per-cell (1x1 conv) or fully connected predictor.
#include "nn/heads/yolo_head.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "nn/backbones/conv_norm_act.h"

namespace detlab {

YoloV1HeadImpl::YoloV1HeadImpl(const YoloV1HeadOptions& o) : options_(o) {
  TORCH_CHECK(o.in_channels > 0 && o.grid_size > 0 && o.num_boxes > 0 && o.num_classes > 0 && o.hidden_channels > 0,
              "YoloV1Head: sizes must be positive: in_channels=", o.in_channels, " grid_size=", o.grid_size,
              " num_boxes=", o.num_boxes, " num_classes=", o.num_classes, " hidden_channels=", o.hidden_channels);
  TORCH_CHECK(o.num_convs >= 0 && o.fc_hidden >= 0, "YoloV1Head: num_convs=", o.num_convs, " fc_hidden=", o.fc_hidden);
  TORCH_CHECK(o.dropout >= 0 && o.dropout < 1, "YoloV1Head: dropout must be in [0, 1), got ", o.dropout);
  const auto leaky = [&] { return torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(o.leaky_slope)); };

  convs_ = register_module("convs", torch::nn::Sequential());
  int64_t channels = o.in_channels;
  for (int64_t i = 0; i < o.num_convs; ++i) {
    convs_->push_back(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, o.hidden_channels, 3).padding(1).bias(!o.batch_norm)));
    if (o.batch_norm) convs_->push_back(torch::nn::BatchNorm2d(o.hidden_channels));
    convs_->push_back(leaky());
    channels = o.hidden_channels;
  }
  const int64_t out = 5 * o.num_boxes + o.num_classes;
  predictor_ = register_module("predictor", torch::nn::Sequential());
  if (o.fc_hidden > 0) {
    predictor_->push_back(torch::nn::Flatten());
    predictor_->push_back(torch::nn::Linear(channels * o.grid_size * o.grid_size, o.fc_hidden));
    predictor_->push_back(leaky());
    predictor_->push_back(torch::nn::Dropout(o.dropout));
    predictor_->push_back(torch::nn::Linear(o.fc_hidden, o.grid_size * o.grid_size * out));
  } else {
    predictor_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, out, 1)));
  }
  init_conv_kaiming_fan_out(*convs_);
}

torch::Tensor YoloV1HeadImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels, "YoloV1Head: input must be N x ", options_.in_channels,
              " x h x w, got ", x.sizes());
  const int64_t s = options_.grid_size, n = x.size(0);
  torch::Tensor y = convs_->forward(x);
  if (y.size(2) != s || y.size(3) != s) y = torch::adaptive_avg_pool2d(y, {s, s});
  y = predictor_->forward(y);
  if (options_.fc_hidden > 0) return y.view({n, s, s, cell_channels()});  // the paper's S x S x 30 reshape
  return y.permute({0, 2, 3, 1}).contiguous();
}

}  // namespace detlab
