// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FrozenBatchNorm2d and the Norm2d switch (see norm.h).
#include "nn/backbones/norm.h"

#include <tuple>

namespace detlab {

std::vector<std::pair<std::string, NormKind>> norm_kind_names(bool with_none) {
  std::vector<std::pair<std::string, NormKind>> names = {{"batch_norm", NormKind::kBatchNorm},
                                                         {"frozen_batch_norm", NormKind::kFrozenBatchNorm}};
  if (with_none) names.emplace_back("none", NormKind::kNone);
  return names;
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
  const auto [scale, shift] = scale_shift();
  return x * scale.reshape({1, -1, 1, 1}) + shift.reshape({1, -1, 1, 1});
}

std::pair<torch::Tensor, torch::Tensor> FrozenBatchNorm2dImpl::scale_shift() const {
  // Same order of operations as torchvision, so that results agree to the last bit or close to it.
  torch::Tensor scale = weight * (running_var + eps).rsqrt();
  torch::Tensor shift = bias - running_mean * scale;
  return {scale, shift};
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
  if (frozen_) {
    std::tie(*scale, *shift) = frozen_->scale_shift();
    return true;
  }
  if (!bn_ || bn_->is_training() || !bn_->options.track_running_stats()) return false;
  // BatchNorm2d's eval formula, in FrozenBatchNorm2d's order of operations.
  const bool affine = bn_->options.affine();
  const torch::Tensor inv_std = (bn_->running_var + bn_->options.eps()).rsqrt();
  *scale = affine ? bn_->weight * inv_std : inv_std;
  *shift = affine ? bn_->bias - bn_->running_mean * *scale : -(bn_->running_mean * *scale);
  return true;
}

std::vector<torch::Tensor> Norm2d::state() const {
  if (frozen_) return {frozen_->weight, frozen_->bias, frozen_->running_mean, frozen_->running_var};
  if (bn_) return {bn_->weight, bn_->bias, bn_->running_mean, bn_->running_var};
  return {};
}

}  // namespace detlab
