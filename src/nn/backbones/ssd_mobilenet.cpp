// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SsdLiteMobileNet (see ssd_mobilenet.h): MobileNetV3 blocks re-registered under SSDlite's names, plus extras.
#include "nn/backbones/ssd_mobilenet.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/conv.h>

namespace detlab {
namespace {

using Step = std::function<torch::Tensor(const torch::Tensor&)>;
using ModulePtr = std::shared_ptr<torch::nn::Module>;

// The ordered children of a module ("0", "1", ... in registration order).
std::vector<ModulePtr> children_of(const torch::nn::Module& m) {
  std::vector<ModulePtr> out;
  for (const auto& item : m.named_children()) out.push_back(item.value());
  return out;
}

ModulePtr child(const torch::nn::Module& m, const std::string& name) {
  const auto kids = m.named_children();
  const auto* found = kids.find(name);
  TORCH_CHECK(found != nullptr, "SsdLiteMobileNet: module has no child '", name, "'");
  return *found;
}

// One part of a MobileNetV3 block: a ConvNormAct or torchvision's SqueezeExcitation (fc1, fc2, Hardsigmoid gate).
Step part_step(const ModulePtr& m) {
  if (auto cna = std::dynamic_pointer_cast<ConvNormActImpl>(m)) {
    return [cna](const torch::Tensor& x) { return cna->forward(x); };
  }
  auto fc1 = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(child(*m, "fc1"));
  auto fc2 = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(child(*m, "fc2"));
  TORCH_CHECK(fc1 && fc2, "SsdLiteMobileNet: unexpected MobileNetV3 block part");
  return [fc1, fc2](const torch::Tensor& x) {
    auto s = torch::adaptive_avg_pool2d(x, {1, 1});
    s = fc2->forward(fc1->forward(s).relu_());
    return torch::hardsigmoid(s) * x;
  };
}

// A sequence of parts, with torchvision's residual connection when asked for.
Step chain(std::vector<Step> parts, bool residual) {
  return [parts = std::move(parts), residual](const torch::Tensor& x) {
    torch::Tensor y = x;
    for (const auto& p : parts) y = p(y);
    if (residual) y += x;
    return y;
  };
}

// A whole features.i entry: the stem / last conv (ConvNormAct) or an inverted residual block ("block.j").
Step block_step(const ModulePtr& m, int64_t* out_channels) {
  if (auto cna = std::dynamic_pointer_cast<ConvNormActImpl>(m)) {
    *out_channels = cna->options().out_channels;
    return part_step(m);
  }
  const auto parts = children_of(*child(*m, "block"));
  std::vector<Step> steps;
  int64_t in = -1, out = -1, stride = 1;
  for (const auto& p : parts) {
    if (auto cna = std::dynamic_pointer_cast<ConvNormActImpl>(p)) {
      if (in < 0) in = cna->options().in_channels;
      out = cna->options().out_channels;
      stride = std::max(stride, cna->options().stride);
    }
    steps.push_back(part_step(p));
  }
  *out_channels = out;
  return chain(std::move(steps), /*residual=*/stride == 1 && in == out);  // torchvision's use_res_connect
}

// ConvNormAct followed by ReLU6 (torchvision's Conv2dNormActivation(..., activation_layer=nn.ReLU6)).
ModulePtr conv_bn_relu6(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups, const NormSpec& norm) {
  return ConvNormAct(ConvNormActOptions{in, out, kernel, stride, groups, 1, norm, Activation::kNone}).ptr();
}

Step relu6_step(const ModulePtr& m) {
  auto cna = std::dynamic_pointer_cast<ConvNormActImpl>(m);
  return [cna](const torch::Tensor& x) { return relu6_(cna->forward(x)); };
}

}  // namespace

torch::Tensor relu6_(torch::Tensor x) { return torch::hardtanh_(x, 0.0, 6.0); }

SsdLiteMobileNetOptions ssdlite320_mobilenet_v3_large_extractor_options() { return SsdLiteMobileNetOptions{}; }

SsdLiteMobileNet::SsdLiteMobileNet(const SsdLiteMobileNetOptions& o) : options_(o) {
  MobileNetV3Options mo = o.mobilenet;
  mo.num_classes = 0;
  mo.out_features = {};
  MobileNetV3 mobilenet(mo);
  const std::vector<int>& stage_ends = mobilenet.stage_indices();
  const int c4 = stage_ends[stage_ends.size() - 2];  // torchvision: stage_indices[-2], the last strided block
  const std::vector<ModulePtr> blocks = children_of(*child(mobilenet, "features"));
  TORCH_CHECK(c4 > 0 && c4 < static_cast<int>(blocks.size()) - 1, "SsdLiteMobileNet: bad C4 position ", c4);

  auto features = register_module("features", std::make_shared<torch::nn::Module>("features"));
  auto f0 = features->register_module("0", std::make_shared<torch::nn::Module>("0"));
  auto f1 = features->register_module("1", std::make_shared<torch::nn::Module>("1"));
  std::vector<Step> s0, s1;
  int64_t channels = 0;
  for (int i = 0; i < c4; ++i) {
    f0->register_module(std::to_string(i), blocks[i]);
    s0.push_back(block_step(blocks[i], &channels));
  }
  // C4 is split after its expansion conv: block.0 ends map "0", block.1.. start map "1" (no residual: stride 2).
  const auto c4_parts = children_of(*child(*blocks[c4], "block"));
  auto expansion = std::dynamic_pointer_cast<ConvNormActImpl>(c4_parts.front());
  TORCH_CHECK(expansion && c4_parts.size() >= 2, "SsdLiteMobileNet: block ", c4, " does not expand");
  f0->register_module(std::to_string(c4), c4_parts.front());
  s0.push_back(part_step(c4_parts.front()));
  shapes_["0"] = ShapeSpec{expansion->options().out_channels, 16};  // C4's input is at stride 16
  auto rest = f1->register_module("0", std::make_shared<torch::nn::Module>("0"));
  std::vector<Step> c4_rest;
  for (size_t j = 1; j < c4_parts.size(); ++j) {
    rest->register_module(std::to_string(j), c4_parts[j]);  // torchvision keeps block[1:]'s keys 1, 2, 3
    c4_rest.push_back(part_step(c4_parts[j]));
  }
  s1.push_back(chain(std::move(c4_rest), false));
  for (size_t i = c4 + 1, k = 1; i < blocks.size(); ++i, ++k) {
    f1->register_module(std::to_string(k), blocks[i]);
    s1.push_back(block_step(blocks[i], &channels));
  }
  shapes_["1"] = ShapeSpec{channels, 32};
  for (int i = 0; i < c4; ++i)
    classifier_load_.rename.emplace_back("features." + std::to_string(i) + ".", "features.0." + std::to_string(i) + ".");
  const std::string c4_key = "features." + std::to_string(c4) + ".block.";
  classifier_load_.rename.emplace_back(c4_key + "0.", "features.0." + std::to_string(c4) + ".");
  classifier_load_.rename.emplace_back(c4_key, "features.1.0.");
  for (size_t i = c4 + 1; i < blocks.size(); ++i)
    classifier_load_.rename.emplace_back("features." + std::to_string(i) + ".",
                                         "features.1." + std::to_string(i - c4) + ".");
  classifier_load_.drop_unrenamed = true;  // classifier.*
  classifier_load_.ignore = {"extra."};
  stages_ = {std::move(s0), std::move(s1)};

  auto extra = register_module("extra", torch::nn::ModuleList());
  int64_t in = channels, stride = 32;
  for (size_t k = 0; k < o.extra_channels.size(); ++k) {
    const int64_t out = std::max(o.min_depth, static_cast<int64_t>(o.extra_channels[k] * o.extra_width_mult));
    const int64_t mid = out / 2;
    auto block = std::make_shared<torch::nn::Module>("extra_block");
    std::vector<ModulePtr> parts = {conv_bn_relu6(in, mid, 1, 1, 1, o.norm), conv_bn_relu6(mid, mid, 3, 2, mid, o.norm),
                                    conv_bn_relu6(mid, out, 1, 1, 1, o.norm)};
    std::vector<Step> steps;
    for (size_t j = 0; j < parts.size(); ++j) {
      block->register_module(std::to_string(j), parts[j]);
      steps.push_back(relu6_step(parts[j]));
    }
    extra->push_back(block);
    stages_.push_back(std::move(steps));
    stride *= 2;
    shapes_[std::to_string(k + 2)] = ShapeSpec{out, stride};
    in = out;
  }
  TORCH_CHECK(shapes_.size() <= 10, "SsdLiteMobileNet: at most 10 maps (keys are single digits)");

  if (o.init_std > 0) {  // torchvision's _normal_init over the backbone and the extras
    torch::NoGradGuard no_grad;
    for (auto& m : modules(/*include_self=*/false)) {
      if (auto* conv = m->as<torch::nn::Conv2dImpl>()) {
        torch::nn::init::normal_(conv->weight, 0.0, o.init_std);
        if (conv->bias.defined()) conv->bias.zero_();
      }
    }
  }
}

std::vector<torch::Tensor> SsdLiteMobileNet::forward_list(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "SsdLiteMobileNet: expected N x 3 x H x W images, got ",
              images.sizes());
  std::vector<torch::Tensor> out;
  torch::Tensor x = images;
  for (const auto& stage : stages_) {
    for (const auto& step : stage) x = step(x);
    out.push_back(x);
  }
  return out;
}

std::map<std::string, torch::Tensor> SsdLiteMobileNet::forward(const torch::Tensor& images) {
  std::map<std::string, torch::Tensor> out;
  auto maps = forward_list(images);
  for (size_t k = 0; k < maps.size(); ++k) out[std::to_string(k)] = std::move(maps[k]);
  return out;
}

}  // namespace detlab
