// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// BasicBlock and Bottleneck (see resnet_blocks.h).
#include "nn/backbones/resnet_blocks.h"

namespace detlab {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false));
}

// conv<i> followed by bn<i>, registered on the block under torchvision's names.
InferenceConv conv_bn(torch::nn::Module& block, int i, int64_t in, int64_t out, int64_t k, int64_t stride,
                      const NormSpec& norm) {
  auto c = block.register_module("conv" + std::to_string(i), conv(in, out, k, stride));
  return InferenceConv(c, Norm2d(block, "bn" + std::to_string(i), out, norm));
}

// The projection shortcut "downsample" = Sequential(conv1x1, norm) in torchvision; a plain module holds the two
// children under "0" and "1" so that the norm can be either kind.
InferenceConv make_downsample(torch::nn::Module& block, int64_t in, int64_t out, int64_t stride,
                              const NormSpec& norm) {
  auto ds = block.register_module("downsample", std::make_shared<torch::nn::Module>("downsample"));
  auto c = ds->register_module("0", conv(in, out, 1, stride));
  return InferenceConv(c, Norm2d(*ds, "1", out, norm));
}

void zero_norm_scale(torch::nn::Module& block, const std::string& name) {
  torch::NoGradGuard no_grad;
  auto child = block.named_children()[name];
  for (auto& p : child->named_parameters()) {
    if (p.key() == "weight") p.value().zero_();
  }
  for (auto& b : child->named_buffers()) {  // FrozenBatchNorm2d keeps its scale as a buffer
    if (b.key() == "weight") b.value().zero_();
  }
}

void check_block(int64_t inplanes, int64_t planes, int64_t stride) {
  TORCH_CHECK(inplanes > 0 && planes > 0 && (stride == 1 || stride == 2), "ResNet block: invalid inplanes=",
              inplanes, " planes=", planes, " stride=", stride);
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride, const NormSpec& norm) {
  check_block(inplanes, planes, stride);
  conv_bn1_ = conv_bn(*this, 1, inplanes, planes, 3, stride, norm);
  conv_bn2_ = conv_bn(*this, 2, planes, planes, 3, 1, norm);
  if (stride != 1 || inplanes != planes * kExpansion) {
    downsample_ = make_downsample(*this, inplanes, planes * kExpansion, stride, norm);
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto out = conv_bn1_(x).relu_();
  out = conv_bn2_(out);
  out += downsample_ ? downsample_(x) : x;
  return out.relu_();
}

void BasicBlockImpl::zero_init_last_norm() { zero_norm_scale(*this, "bn2"); }

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, const NormSpec& norm) {
  check_block(inplanes, planes, stride);
  conv_bn1_ = conv_bn(*this, 1, inplanes, planes, 1, 1, norm);
  conv_bn2_ = conv_bn(*this, 2, planes, planes, 3, stride, norm);
  conv_bn3_ = conv_bn(*this, 3, planes, planes * kExpansion, 1, 1, norm);
  if (stride != 1 || inplanes != planes * kExpansion) {
    downsample_ = make_downsample(*this, inplanes, planes * kExpansion, stride, norm);
  }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto out = conv_bn1_(x).relu_();
  out = conv_bn2_(out).relu_();
  out = conv_bn3_(out);
  out += downsample_ ? downsample_(x) : x;
  return out.relu_();
}

void BottleneckImpl::zero_init_last_norm() { zero_norm_scale(*this, "bn3"); }

}  // namespace detlab
