// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FrozenBatchNorm2d and the Norm2d switch (see norm.h).
#include "nn/backbones/norm.h"

#include <stdexcept>

namespace detlab {

const char* norm_kind_name(NormKind kind) {
  switch (kind) {
    case NormKind::kBatchNorm: return "batch_norm";
    case NormKind::kFrozenBatchNorm: return "frozen_batch_norm";
    case NormKind::kNone: return "none";
  }
  return "?";
}

NormKind norm_kind_from_name(const std::string& name) {
  for (NormKind k : {NormKind::kBatchNorm, NormKind::kFrozenBatchNorm, NormKind::kNone}) {
    if (name == norm_kind_name(k)) return k;
  }
  throw std::invalid_argument("unknown norm '" + name + "' (known: batch_norm, frozen_batch_norm, none)");
}

FrozenBatchNorm2dImpl::FrozenBatchNorm2dImpl(int64_t num_features, double eps_) : eps(eps_) {
  TORCH_CHECK(num_features > 0, "FrozenBatchNorm2d: num_features must be positive, got ", num_features);
  weight = register_buffer("weight", torch::ones({num_features}));
  bias = register_buffer("bias", torch::zeros({num_features}));
  running_mean = register_buffer("running_mean", torch::zeros({num_features}));
  running_var = register_buffer("running_var", torch::ones({num_features}));
}

torch::Tensor FrozenBatchNorm2dImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == weight.size(0), "FrozenBatchNorm2d: expected N x ", weight.size(0),
              " x H x W, got ", x.sizes());
  // Same order of operations as torchvision, so that results agree to the last bit or close to it.
  const auto scale = weight.reshape({1, -1, 1, 1}) * (running_var.reshape({1, -1, 1, 1}) + eps).rsqrt();
  const auto shift = bias.reshape({1, -1, 1, 1}) - running_mean.reshape({1, -1, 1, 1}) * scale;
  return x * scale + shift;
}

Norm2d::Norm2d(torch::nn::Module& parent, const std::string& name, int64_t channels, const NormSpec& spec) {
  switch (spec.kind) {
    case NormKind::kBatchNorm:
      bn_ = parent.register_module(
          name, torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(channels).eps(spec.eps).momentum(spec.momentum)));
      break;
    case NormKind::kFrozenBatchNorm:
      frozen_ = parent.register_module(name, FrozenBatchNorm2d(channels, spec.eps));
      break;
    case NormKind::kNone:
      TORCH_CHECK(false, "Norm2d: NormKind::kNone has no layer to register (", name, ")");
  }
}

torch::Tensor Norm2d::operator()(const torch::Tensor& x) const {
  if (bn_) return bn_.ptr()->forward(x);
  TORCH_CHECK(frozen_, "Norm2d: called before construction");
  return frozen_.ptr()->forward(x);
}

bool Norm2d::is_training() const { return bn_ ? bn_->is_training() : frozen_ && frozen_->is_training(); }

bool Norm2d::affine_form(torch::Tensor* scale, torch::Tensor* shift) const {
  torch::Tensor w, b, mean, var;
  double eps = 0;
  if (frozen_) {
    w = frozen_->weight, b = frozen_->bias, mean = frozen_->running_mean, var = frozen_->running_var;
    eps = frozen_->eps;
  } else if (bn_ && !bn_->is_training() && bn_->options.track_running_stats()) {
    mean = bn_->running_mean, var = bn_->running_var;
    eps = bn_->options.eps();
    w = bn_->options.affine() ? bn_->weight : torch::ones_like(var);
    b = bn_->options.affine() ? bn_->bias : torch::zeros_like(mean);
  } else {
    return false;
  }
  // torchvision's FrozenBatchNorm2d order of operations (BatchNorm2d's eval formula is the same algebra).
  *scale = w * (var + eps).rsqrt();
  *shift = b - mean * *scale;
  return true;
}

std::vector<torch::Tensor> Norm2d::state() const {
  if (frozen_) return {frozen_->weight, frozen_->bias, frozen_->running_mean, frozen_->running_var};
  if (bn_) return {bn_->weight, bn_->bias, bn_->running_mean, bn_->running_var};
  return {};
}

}  // namespace detlab
