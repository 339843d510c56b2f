// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// VGG (see vgg.h).
#include "nn/backbones/vgg.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <algorithm>

#include "nn/backbones/conv_norm_act.h"

namespace detlab {

VggOptions vgg_options(int depth, bool batch_norm) {
  constexpr int64_t M = kVggPool;
  VggOptions o;
  o.batch_norm = batch_norm;
  switch (depth) {  // torchvision's cfgs "A", "B", "D", "E"
    case 11: o.config = {64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M}; break;
    case 13: o.config = {64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M}; break;
    case 16: o.config = {64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M}; break;
    case 19:
      o.config = {64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M};
      break;
    default: TORCH_CHECK(false, "vgg_options: depth must be 11, 13, 16 or 19, got ", depth);
  }
  // The last convolution before the last pool (Fast R-CNN's conv5_3 for VGG-16): conv5_2, conv5_3 or conv5_4.
  const int last_stage_convs = depth == 19 ? 4 : depth == 16 ? 3 : 2;
  o.out_features = {"conv5_" + std::to_string(last_stage_convs)};
  return o;
}

VggOptions small_vgg_options() {
  constexpr int64_t M = kVggPool;
  VggOptions o;
  o.config = {16, M, 32, M, 64, 64, M, 128, 128, M, 128, 128, M};  // VGG-11's layout at 1/4 to 1/8 width
  o.num_classes = 0;
  o.hidden = 256;       // a 4096-wide head would hold 50x the parameters of the convolutions
  o.pool_size = 1;      // global average pool: the head sees 128 numbers
  o.out_features = {"conv4_2", "conv5_2"};
  return o;
}

Vgg::Vgg(const VggOptions& o) : options_(o) {
  TORCH_CHECK(!o.config.empty() && o.config.front() != kVggPool, "Vgg: config must start with a convolution");
  TORCH_CHECK(o.num_classes >= 0 && o.hidden > 0 && o.pool_size > 0, "Vgg: num_classes=", o.num_classes,
              " hidden=", o.hidden, " pool_size=", o.pool_size);
  TORCH_CHECK(!o.out_features.empty(), "Vgg: out_features is empty");

  features_ = register_module("features", torch::nn::Sequential());
  std::vector<size_t> stage_begin{0};  // features index where each stage starts (for freezing)
  int64_t in = 3, stage = 1, conv = 0, stride = 1;
  for (int64_t v : o.config) {
    if (v == kVggPool) {
      features_->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2).stride(2)));
      stride *= 2;
      taps_["pool" + std::to_string(stage)] = ShapeSpec{in, stride};
      tap_index_[features_->size() - 1] = "pool" + std::to_string(stage);
      stage_begin.push_back(features_->size());
      ++stage;
      conv = 0;
      continue;
    }
    TORCH_CHECK(v > 0, "Vgg: config entries must be channel counts or kVggPool, got ", v);
    torch::nn::Conv2d conv_layer(torch::nn::Conv2dOptions(in, v, 3).padding(1));
    features_->push_back(conv_layer);
    Norm2d norm;
    if (o.batch_norm) {
      torch::nn::BatchNorm2d bn(v);
      features_->push_back(bn);
      norm = Norm2d(bn);
    }
    convs_.emplace(features_->size() - (o.batch_norm ? 2 : 1), InferenceConv(conv_layer, norm));
    features_->push_back(torch::nn::ReLU(torch::nn::ReLUOptions(/*inplace=*/true)));
    ++conv;
    in = v;
    const std::string name = "conv" + std::to_string(stage) + "_" + std::to_string(conv);
    taps_[name] = ShapeSpec{v, stride};
    tap_index_[features_->size() - 1] = name;
  }
  // Keep only the requested taps in tap_index_; remember how far forward() must run.
  std::map<size_t, std::string> wanted;
  for (const auto& f : o.out_features) {
    auto it = std::find_if(tap_index_.begin(), tap_index_.end(), [&](const auto& kv) { return kv.second == f; });
    TORCH_CHECK(it != tap_index_.end(), "Vgg: unknown out_feature '", f, "' for this configuration");
    wanted.insert(*it);
    last_needed_ = std::max(last_needed_, it->first);
  }
  tap_index_ = std::move(wanted);

  if (o.num_classes > 0) {
    classifier_ = register_module(
        "classifier",
        torch::nn::Sequential(torch::nn::Linear(in * o.pool_size * o.pool_size, o.hidden),
                              torch::nn::ReLU(torch::nn::ReLUOptions(true)), torch::nn::Dropout(o.dropout),
                              torch::nn::Linear(o.hidden, o.hidden), torch::nn::ReLU(torch::nn::ReLUOptions(true)),
                              torch::nn::Dropout(o.dropout), torch::nn::Linear(o.hidden, o.num_classes)));
  }

  // torchvision's initialisation: Kaiming (fan_out) convolutions, N(0, 0.01) linear layers, zero biases.
  init_conv_kaiming_fan_out(*this);
  {
    torch::NoGradGuard no_grad;
    for (auto& m : modules(/*include_self=*/false)) {
      if (auto* fc = m->as<torch::nn::LinearImpl>()) {
        torch::nn::init::normal_(fc->weight, 0, 0.01);
        fc->bias.zero_();
      }
    }
  }

  const int64_t stages = static_cast<int64_t>(stage_begin.size()) - (o.config.back() == kVggPool ? 1 : 0);
  TORCH_CHECK(o.trainable_layers >= -1 && o.trainable_layers <= stages, "Vgg: trainable_layers must be -1 or in [0, ",
              stages, "], got ", o.trainable_layers);
  if (o.trainable_layers >= 0) {
    const size_t freeze_before =
        o.trainable_layers == 0 ? features_->size() : stage_begin[stages - o.trainable_layers];
    for (size_t i = 0; i < freeze_before; ++i) {
      for (auto& p : features_->ptr(i)->parameters()) p.requires_grad_(false);
    }
  }
}

std::map<std::string, torch::Tensor> Vgg::forward(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "Vgg: expected N x 3 x H x W images, got ", images.sizes());
  std::map<std::string, torch::Tensor> out;
  auto x = images;
  auto layer = features_->begin();
  for (size_t i = 0; i <= last_needed_; ++i, ++layer) {
    if (auto conv = convs_.find(i); conv != convs_.end()) {
      x = conv->second(x);
      if (options_.batch_norm) ++i, ++layer;  // the BatchNorm2d ran inside (folded, or after the convolution)
    } else {
      x = layer->forward(x);
    }
    auto it = tap_index_.find(i);
    // The next layer may be an in-place ReLU only after a convolution, never after a tap (a ReLU or a pool).
    if (it != tap_index_.end()) out[it->second] = x;
  }
  return out;
}

torch::Tensor Vgg::logits(const torch::Tensor& images) {
  TORCH_CHECK(classifier_, "Vgg: built without a classification head (num_classes = 0)");
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "Vgg: expected N x 3 x H x W images, got ", images.sizes());
  auto x = features_->forward(images);
  x = torch::adaptive_avg_pool2d(x, {options_.pool_size, options_.pool_size}).flatten(1);
  return classifier_->forward(x);
}

std::map<std::string, ShapeSpec> Vgg::output_shape() const {
  std::map<std::string, ShapeSpec> shapes;
  for (const auto& f : options_.out_features) shapes[f] = taps_.at(f);
  return shapes;
}

int64_t Vgg::size_divisibility() const {
  int64_t d = 1;
  for (const auto& kv : output_shape()) d = std::max(d, kv.second.stride);
  return d > 1 ? d : 0;
}

}  // namespace detlab
