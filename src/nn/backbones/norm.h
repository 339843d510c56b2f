// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Normalisation layers for backbones: BatchNorm2d or torchvision's FrozenBatchNorm2d, chosen by an option.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace detlab {

enum class NormKind {
  kBatchNorm,        // torch::nn::BatchNorm2d: trains its affine parameters, tracks statistics in train mode
  kFrozenBatchNorm,  // FrozenBatchNorm2d: every value is a buffer (what pretrained torchvision detectors use)
  kNone,             // no normalisation (convolutions then get a bias)
};

/// The config names of the kinds ("batch_norm", "frozen_batch_norm" and, with_none, "none"), for
/// config/checked.h's get_named.
std::vector<std::pair<std::string, NormKind>> norm_kind_names(bool with_none = true);

struct NormSpec {
  NormKind kind = NormKind::kBatchNorm;
  double eps = 1e-5;       // PyTorch's BatchNorm2d default; MobileNetV3 uses 1e-3
  double momentum = 0.1;   // PyTorch's default; MobileNetV3 uses 0.01
};

/// torchvision.ops.misc.FrozenBatchNorm2d: y = x * scale + shift with scale = weight / sqrt(running_var + eps)
/// and shift = bias - running_mean * scale. All four tensors are buffers (no gradients, no statistics update,
/// no num_batches_tracked), named as torchvision names them so state dicts load by key.
class FrozenBatchNorm2dImpl : public torch::nn::Module {
 public:
  explicit FrozenBatchNorm2dImpl(int64_t num_features, double eps = 1e-5);
  /*  requires: x N x num_features x H x W.  ensures: same shape. */
  torch::Tensor forward(const torch::Tensor& x);
  /// The per-channel (scale, shift) that forward() applies, each of num_features values.
  std::pair<torch::Tensor, torch::Tensor> scale_shift() const;

  torch::Tensor weight, bias, running_mean, running_var;
  double eps;
};
TORCH_MODULE(FrozenBatchNorm2d);

/// A normalisation layer registered on a parent module under one name, called like a function. It lets
/// blocks switch between BatchNorm2d and FrozenBatchNorm2d without a type-erased module in between (which
/// would add a level to the parameter names).
class Norm2d {
 public:
  Norm2d() = default;
  /*  requires: spec.kind != kNone.  ensures: parent has a child `name` of the chosen type. */
  Norm2d(torch::nn::Module& parent, const std::string& name, int64_t channels, const NormSpec& spec);
  /// A BatchNorm2d already registered elsewhere (e.g. in a Sequential).
  explicit Norm2d(torch::nn::BatchNorm2d bn) : bn_(std::move(bn)) {}
  torch::Tensor operator()(const torch::Tensor& x) const;

  explicit operator bool() const { return bn_ || frozen_; }
  bool is_training() const;
  /*  The layer as y = x * scale + shift per channel (eval-mode statistics), for folding into a convolution.
      ensures: false (and nothing set) when it has no such form: a BatchNorm2d in train mode or without
               running statistics. */
  bool affine_form(torch::Tensor* scale, torch::Tensor* shift) const;
  /// The tensors affine_form is computed from (to tell when a folded copy is stale).
  std::vector<torch::Tensor> state() const;

 private:
  torch::nn::BatchNorm2d bn_{nullptr};
  FrozenBatchNorm2d frozen_{nullptr};
};

}  // namespace detlab
