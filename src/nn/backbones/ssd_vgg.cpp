// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SsdVgg (see ssd_vgg.h): VGG layers re-registered under torchvision's SSD names, plus L2Norm, fc6/fc7, extras.
#include "nn/backbones/ssd_vgg.h"

#include <torch/nn/functional/normalization.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>

#include "nn/backbones/inference_conv.h"

namespace detlab {
namespace {

// torchvision's _xavier_init: Xavier-uniform weights, zero biases for every convolution below `m`.
void xavier_init(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& child : m.modules(/*include_self=*/false)) {
    if (auto* conv = child->as<torch::nn::Conv2dImpl>()) {
      torch::nn::init::xavier_uniform_(conv->weight);
      if (conv->bias.defined()) conv->bias.zero_();
    }
  }
}

torch::nn::ReLU relu() { return torch::nn::ReLU(torch::nn::ReLUOptions(/*inplace=*/true)); }

}  // namespace

SsdVggOptions ssd300_vgg16_extractor_options() { return SsdVggOptions{}; }

SsdVggOptions small_ssd_vgg_extractor_options() {
  SsdVggOptions o;
  o.vgg = small_vgg_options();
  o.fc_channels = 256;  // 1/4 of VGG-16's 1024, as small_vgg is ~1/4 of VGG-16's width
  o.fc_dilation = 2;    // a 6-pixel dilation would reach past the 8-20 px maps of small inputs
  o.extras = {{64, 128, 3, 2, 1}, {64, 128, 3, 2, 1}, {64, 128, 3, 2, 1}, {64, 128, 3, 2, 1}};
  return o;
}

SsdVgg::SsdVgg(const SsdVggOptions& o) : options_(o) {
  TORCH_CHECK(o.fc_channels > 0 && o.fc_dilation > 0, "SsdVgg: fc_channels=", o.fc_channels,
              " fc_dilation=", o.fc_dilation);
  TORCH_CHECK(!o.vgg.config.empty() && o.vgg.config.back() == kVggPool,
              "SsdVgg: the VGG configuration must end with a max pool (pool5 is replaced by SSD's 3x3 pool)");
  VggOptions vo = o.vgg;
  vo.num_classes = 0;
  vo.out_features = {"pool1"};  // any valid tap: only the layers are used, not Vgg::forward
  Vgg vgg(vo);
  torch::nn::Sequential layers = vgg.features();

  // Positions of the max pools, and the channels entering the 4th one (conv4_3's) and the last one (conv5_3's).
  std::vector<size_t> pools;
  int64_t channels = 3, conv4_channels = 0, seen_pools = 0;
  for (int64_t v : o.vgg.config) {
    if (v != kVggPool) channels = v;
    else if (++seen_pools == 4) conv4_channels = channels;
  }
  size_t i = 0;
  for (i = 0; i < layers->size(); ++i) {
    if (layers->ptr(i)->as<torch::nn::MaxPool2dImpl>()) pools.push_back(i);
  }
  TORCH_CHECK(pools.size() >= 4, "SsdVgg: the VGG configuration has ", pools.size(), " max pools, needs at least 4");
  const int64_t conv5_channels = channels;
  // Ceil mode on pool3 gives the paper's 38 x 38 conv4_3 map from a 300 px input (75 -> 38, not 37).
  layers->ptr(pools[2])->as<torch::nn::MaxPool2dImpl>()->options.ceil_mode(true);

  // torchvision's modules are nn.Sequential; here they are plain modules with the same child names, and the
  // layers to run are kept in stages_ (LibTorch's Sequential cannot hold a Sequential). Convolutions run through
  // InferenceConv (channels-last weights and activations in eval mode without autograd).
  auto add = [](torch::nn::Module& parent, std::vector<Layer>& stage, torch::nn::AnyModule m) {
    parent.register_module(std::to_string(parent.named_children().size()), m.ptr());
    if (auto conv = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(m.ptr())) {
      stage.push_back(InferenceConv(torch::nn::Conv2d(conv)));
    } else {
      stage.push_back([m = std::move(m)](const torch::Tensor& x) mutable { return m.forward(x); });
    }
  };
  auto features = register_module("features", std::make_shared<torch::nn::Module>("features"));
  stages_.emplace_back();
  for (i = 0; i < pools[3]; ++i) add(*features, stages_.back(), layers->begin()[i]);
  scale_weight_ = register_parameter("scale_weight", torch::full({conv4_channels}, o.l2_scale));

  auto extra = register_module("extra", std::make_shared<torch::nn::Module>("extra"));
  auto block0 = extra->register_module("0", std::make_shared<torch::nn::Module>("0"));
  stages_.emplace_back();
  for (i = pools[3]; i + 1 < layers->size(); ++i) add(*block0, stages_.back(), layers->begin()[i]);  // pool4 .. conv5_3
  auto fc = block0->register_module(std::to_string(block0->named_children().size()),
                                    std::make_shared<torch::nn::Module>("fc"));
  add(*fc, stages_.back(), torch::nn::AnyModule(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(1).padding(1))));
  add(*fc, stages_.back(),
      torch::nn::AnyModule(torch::nn::Conv2d(
          torch::nn::Conv2dOptions(conv5_channels, o.fc_channels, 3).padding(o.fc_dilation).dilation(o.fc_dilation))));
  add(*fc, stages_.back(), torch::nn::AnyModule(relu()));
  add(*fc, stages_.back(), torch::nn::AnyModule(torch::nn::Conv2d(torch::nn::Conv2dOptions(o.fc_channels, o.fc_channels, 1))));
  add(*fc, stages_.back(), torch::nn::AnyModule(relu()));
  xavier_init(*fc);

  for (i = 0; i + 1 < layers->size(); ++i) {
    const std::string to = i < pools[3] ? "features." + std::to_string(i) + "." : "extra.0." + std::to_string(i - pools[3]) + ".";
    classifier_load_.rename.emplace_back("features." + std::to_string(i) + ".", to);
  }
  classifier_load_.drop_unrenamed = true;  // classifier.*
  classifier_load_.ignore = {"scale_weight", "extra.0." + std::to_string(layers->size() - 1 - pools[3]) + "."};
  for (size_t k = 0; k < o.extras.size(); ++k) classifier_load_.ignore.push_back("extra." + std::to_string(k + 1) + ".");

  int64_t stride = 8;  // conv4_3: three 2x2 pools
  shapes_["0"] = ShapeSpec{conv4_channels, stride};
  stride *= 2;         // pool4; SSD's pool5 keeps the size
  shapes_["1"] = ShapeSpec{o.fc_channels, stride};
  int64_t in = o.fc_channels;
  for (size_t k = 0; k < o.extras.size(); ++k) {
    const SsdExtraLayer& e = o.extras[k];
    TORCH_CHECK(e.mid_channels > 0 && e.out_channels > 0 && e.kernel > 0 && e.stride > 0 && e.padding >= 0,
                "SsdVgg: bad extra layer ", k, ": mid=", e.mid_channels, " out=", e.out_channels, " k=", e.kernel,
                " stride=", e.stride, " padding=", e.padding);
    auto block = extra->register_module(std::to_string(k + 1), std::make_shared<torch::nn::Module>("extra"));
    stages_.emplace_back();
    add(*block, stages_.back(), torch::nn::AnyModule(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, e.mid_channels, 1))));
    add(*block, stages_.back(), torch::nn::AnyModule(relu()));
    add(*block, stages_.back(),
        torch::nn::AnyModule(torch::nn::Conv2d(
            torch::nn::Conv2dOptions(e.mid_channels, e.out_channels, e.kernel).stride(e.stride).padding(e.padding))));
    add(*block, stages_.back(), torch::nn::AnyModule(relu()));
    xavier_init(*block);
    stride *= e.stride;
    shapes_[std::to_string(k + 2)] = ShapeSpec{e.out_channels, stride};
    in = e.out_channels;
  }
  TORCH_CHECK(shapes_.size() <= 10, "SsdVgg: at most 10 maps (keys are single digits ordered as strings)");
}

std::vector<torch::Tensor> SsdVgg::forward_list(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "SsdVgg: expected N x 3 x H x W images, got ", images.sizes());
  torch::Tensor x = images;
  for (auto& layer : stages_[0]) x = layer(x);
  // L2 normalisation over channels (F.normalize: x / max(||x||_2, 1e-12)) with a learned per-channel scale.
  std::vector<torch::Tensor> out{scale_weight_.view({1, -1, 1, 1}) *
                                 torch::nn::functional::normalize(
                                     x, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1).eps(1e-12))};
  for (size_t k = 1; k < stages_.size(); ++k) {
    for (auto& layer : stages_[k]) x = layer(x);
    out.push_back(x);
  }
  return out;
}

std::map<std::string, torch::Tensor> SsdVgg::forward(const torch::Tensor& images) {
  std::map<std::string, torch::Tensor> out;
  auto maps = forward_list(images);
  for (size_t k = 0; k < maps.size(); ++k) out[std::to_string(k)] = std::move(maps[k]);
  return out;
}

}  // namespace detlab
