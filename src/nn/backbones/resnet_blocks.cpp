// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// BasicBlock and Bottleneck (see resnet_blocks.h).
#include "nn/backbones/resnet_blocks.h"

namespace detlab {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false));
}

// The projection shortcut "downsample" = Sequential(conv1x1, norm) in torchvision; a plain module holds the two
// children under "0" and "1" so that the norm can be either kind.
void make_downsample(torch::nn::Module& block, int64_t in, int64_t out, int64_t stride, const NormSpec& norm,
                     torch::nn::Conv2d& down_conv, Norm2d& down_bn) {
  auto ds = block.register_module("downsample", std::make_shared<torch::nn::Module>("downsample"));
  down_conv = ds->register_module("0", conv(in, out, 1, stride));
  down_bn = Norm2d(*ds, "1", out, norm);
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
  conv1_ = register_module("conv1", conv(inplanes, planes, 3, stride));
  bn1_ = Norm2d(*this, "bn1", planes, norm);
  conv2_ = register_module("conv2", conv(planes, planes, 3, 1));
  bn2_ = Norm2d(*this, "bn2", planes, norm);
  if (stride != 1 || inplanes != planes * kExpansion) {
    make_downsample(*this, inplanes, planes * kExpansion, stride, norm, down_conv_, down_bn_);
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  auto out = bn1_(conv1_->forward(x)).relu_();
  out = bn2_(conv2_->forward(out));
  out += down_conv_ ? down_bn_(down_conv_->forward(x)) : x;
  return out.relu_();
}

void BasicBlockImpl::zero_init_last_norm() { zero_norm_scale(*this, "bn2"); }

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, const NormSpec& norm) {
  check_block(inplanes, planes, stride);
  conv1_ = register_module("conv1", conv(inplanes, planes, 1, 1));
  bn1_ = Norm2d(*this, "bn1", planes, norm);
  conv2_ = register_module("conv2", conv(planes, planes, 3, stride));
  bn2_ = Norm2d(*this, "bn2", planes, norm);
  conv3_ = register_module("conv3", conv(planes, planes * kExpansion, 1, 1));
  bn3_ = Norm2d(*this, "bn3", planes * kExpansion, norm);
  if (stride != 1 || inplanes != planes * kExpansion) {
    make_downsample(*this, inplanes, planes * kExpansion, stride, norm, down_conv_, down_bn_);
  }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  auto out = bn1_(conv1_->forward(x)).relu_();
  out = bn2_(conv2_->forward(out)).relu_();
  out = bn3_(conv3_->forward(out));
  out += down_conv_ ? down_bn_(down_conv_->forward(x)) : x;
  return out.relu_();
}

void BottleneckImpl::zero_init_last_norm() { zero_norm_scale(*this, "bn3"); }

}  // namespace detlab
