// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ResNet (see resnet.h).
#include "nn/backbones/resnet.h"

#include <algorithm>

#include "nn/backbones/conv_norm_act.h"
#include "nn/backbones/resnet_blocks.h"

namespace detlab {
namespace {

int stage_of(const std::string& name) {
  for (int k = 1; k <= 4; ++k) {
    if (name == "layer" + std::to_string(k)) return k;
  }
  return 0;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

ResNetOptions resnet_options(int depth) {
  ResNetOptions o;
  switch (depth) {
    case 18: o.block = ResNetOptions::Block::kBasic; o.layers = {2, 2, 2, 2}; break;
    case 34: o.block = ResNetOptions::Block::kBasic; o.layers = {3, 4, 6, 3}; break;
    case 50: o.layers = {3, 4, 6, 3}; break;
    case 101: o.layers = {3, 4, 23, 3}; break;
    case 152: o.layers = {3, 8, 36, 3}; break;
    default: TORCH_CHECK(false, "resnet_options: depth must be 18, 34, 50, 101 or 152, got ", depth);
  }
  return o;
}

ResNetOptions small_resnet_options() {
  ResNetOptions o;
  o.block = ResNetOptions::Block::kBasic;
  o.layers = {2, 2, 2, 2};          // ResNet-18's depth: enough to learn BCCD's three cell types from scratch
  o.widths = {16, 32, 64, 128};     // 1/4 of ResNet-18: ~0.7 M parameters, minutes per epoch on 2 CPU cores
  o.stem_channels = 16;
  o.stem_kernel = 3;                // a 7x7 stem on 16 channels buys little at this width
  o.num_classes = 0;
  return o;
}

ResNet::ResNet(const ResNetOptions& o) : options_(o) {
  TORCH_CHECK(o.layers.size() == 4 && o.widths.size() == 4, "ResNet: layers and widths need 4 entries, got ",
              o.layers.size(), " and ", o.widths.size());
  TORCH_CHECK(o.stem_channels > 0 && o.stem_kernel > 0 && o.stem_kernel % 2 == 1, "ResNet: stem_channels=",
              o.stem_channels, " stem_kernel=", o.stem_kernel, " (kernel must be odd)");
  TORCH_CHECK(o.num_classes >= 0, "ResNet: num_classes must be >= 0, got ", o.num_classes);
  TORCH_CHECK(o.trainable_layers >= 0 && o.trainable_layers <= 5, "ResNet: trainable_layers must be in [0, 5], got ",
              o.trainable_layers);
  TORCH_CHECK(!o.out_features.empty(), "ResNet: out_features is empty");
  last_needed_ = 0;
  for (const auto& f : o.out_features) {
    const int k = stage_of(f);
    TORCH_CHECK(k > 0, "ResNet: unknown out_feature '", f, "' (known: layer1, layer2, layer3, layer4)");
    last_needed_ = std::max(last_needed_, k);
  }

  const bool basic = o.block == ResNetOptions::Block::kBasic;
  const int64_t expansion = basic ? BasicBlockImpl::kExpansion : BottleneckImpl::kExpansion;
  auto conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, o.stem_channels, o.stem_kernel)
                                                             .stride(2)
                                                             .padding(o.stem_kernel / 2)
                                                             .bias(false)));
  stem_ = InferenceConv(conv1, Norm2d(*this, "bn1", o.stem_channels, o.norm));
  int64_t inplanes = o.stem_channels;
  for (int k = 0; k < 4; ++k) {
    TORCH_CHECK(o.layers[k] > 0 && o.widths[k] > 0, "ResNet: stage ", k + 1, " has ", o.layers[k],
                " blocks of width ", o.widths[k]);
    torch::nn::Sequential stage;
    for (int64_t b = 0; b < o.layers[k]; ++b) {
      const int64_t stride = (b == 0 && k > 0) ? 2 : 1;
      if (basic) {
        stage->push_back(BasicBlock(inplanes, o.widths[k], stride, o.norm));
      } else {
        stage->push_back(Bottleneck(inplanes, o.widths[k], stride, o.norm));
      }
      inplanes = o.widths[k] * expansion;
    }
    layers_.push_back(register_module("layer" + std::to_string(k + 1), stage));
  }
  if (o.num_classes > 0) fc_ = register_module("fc", torch::nn::Linear(inplanes, o.num_classes));

  // torchvision's initialisation (fc keeps Linear's default, as there).
  init_conv_kaiming_fan_out(*this);
  if (o.zero_init_residual) {
    for (auto& stage : layers_) {
      for (auto& block : stage->children()) {
        if (auto* bb = block->as<BasicBlockImpl>()) bb->zero_init_last_norm();
        if (auto* bt = block->as<BottleneckImpl>()) bt->zero_init_last_norm();
      }
    }
  }

  std::vector<std::string> trainable = {"layer4", "layer3", "layer2", "layer1", "conv1"};
  trainable.resize(o.trainable_layers);
  if (o.trainable_layers == 5) trainable.push_back("bn1");
  trainable.push_back("fc");
  for (auto& p : named_parameters()) {
    const bool keep = std::any_of(trainable.begin(), trainable.end(),
                                  [&](const std::string& t) { return starts_with(p.key(), t + "."); });
    if (!keep) p.value().requires_grad_(false);
  }
}

torch::Tensor ResNet::stem(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "ResNet: expected N x 3 x H x W images, got ",
              images.sizes());
  auto x = stem_(images).relu_();
  return torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
}

std::map<std::string, torch::Tensor> ResNet::forward(const torch::Tensor& images) {
  std::map<std::string, torch::Tensor> out;
  auto x = stem(images);
  for (int k = 1; k <= last_needed_; ++k) {
    x = layers_[k - 1]->forward(x);
    const std::string name = "layer" + std::to_string(k);
    if (std::find(options_.out_features.begin(), options_.out_features.end(), name) != options_.out_features.end()) {
      out[name] = x;
    }
  }
  return out;
}

torch::Tensor ResNet::logits(const torch::Tensor& images) {
  TORCH_CHECK(fc_, "ResNet: built without a classification head (num_classes = 0)");
  auto x = stem(images);
  for (auto& stage : layers_) x = stage->forward(x);
  return fc_->forward(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
}

std::map<std::string, ShapeSpec> ResNet::output_shape() const {
  std::map<std::string, ShapeSpec> shapes;
  for (const auto& f : options_.out_features) {
    const int k = stage_of(f);
    shapes[f] = ShapeSpec{channels(k), int64_t{1} << (k + 1)};
  }
  return shapes;
}

torch::nn::Sequential ResNet::layer(int k) const {
  TORCH_CHECK(k >= 1 && k <= 4, "ResNet::layer: k must be in 1..4, got ", k);
  return layers_[k - 1];
}

int64_t ResNet::channels(int k) const {
  TORCH_CHECK(k >= 1 && k <= 4, "ResNet::channels: k must be in 1..4, got ", k);
  const int64_t expansion =
      options_.block == ResNetOptions::Block::kBasic ? BasicBlockImpl::kExpansion : BottleneckImpl::kExpansion;
  return options_.widths[k - 1] * expansion;
}

}  // namespace detlab
