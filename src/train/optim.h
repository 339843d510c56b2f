// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Optimizers for the training engine: SGD with momentum / AdamW over parameter groups set by lr multiplier
// and weight-decay policy.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace torch {
namespace optim {
class Optimizer;
}  // namespace optim
namespace serialize {
class OutputArchive;
class InputArchive;
}  // namespace serialize
}  // namespace torch

namespace detlab {

class Config;

/// The update rules are LibTorch's (torch::optim::SGD / AdamW, the same as PyTorch's):
///   SGD:   g += weight_decay * p;  buf = momentum * buf + g (buf = g at the first step);  p -= lr * buf
///          (nesterov: p -= lr * (g + momentum * buf))
///   AdamW: p *= 1 - lr * weight_decay;  then Adam with bias correction (Loshchilov & Hutter 2019)
struct OptimizerOptions {
  enum class Type { kSgd, kAdamW };
  Type type = Type::kSgd;
  double lr = 0.01;           // base rate; the schedule scales it every iteration
  double momentum = 0.9;      // SGD (torchvision / detectron2 detection recipes)
  bool nesterov = false;
  double weight_decay = 1e-4; // torchvision / detectron2 detection recipes (DETR's AdamW uses 1e-4 too)
  double beta1 = 0.9;         // AdamW (PyTorch defaults)
  double beta2 = 0.999;
  double eps = 1e-8;
  bool decay_norm_and_bias = true;  // false: 1-D parameters (biases, norm scales / shifts) get no decay
};

/// Reads optimizer (sgd | adamw), lr, momentum, nesterov, weight_decay, betas ([b1, b2]), eps,
/// decay_norm_and_bias from the train node. InputError naming the key on a bad value.
OptimizerOptions parse_optimizer(const Config& train_node);

/// Per-parameter learning-rate multiplier (see Trainable::lr_multiplier); empty means 1 for all.
using LrMultiplierFn = std::function<double(const std::string& param_name)>;

/// A LibTorch optimizer over the trainable parameters of a module (requires_grad == true), in groups of equal
/// (lr multiplier, weight decay), ordered by first appearance in named_parameters() -- so the grouping, and
/// with it the saved optimizer state, is the same in every process that builds the same module.
/// thread safety: none (one training loop owns it).
class GroupedOptimizer {
 public:
  /// requires: the module has at least one trainable parameter; multipliers are finite and >= 0.
  GroupedOptimizer(torch::nn::Module& module, const OptimizerOptions& opts, const LrMultiplierFn& lr_multiplier = {});
  ~GroupedOptimizer();

  /// Sets every group's rate to base_lr * its multiplier.
  void set_lr(double base_lr);
  double group_lr(size_t group) const;
  size_t num_groups() const { return multipliers_.size(); }
  double group_multiplier(size_t group) const { return multipliers_.at(group); }
  double group_weight_decay(size_t group) const;
  /// Trainable parameters, in group order.
  const std::vector<torch::Tensor>& parameters() const { return params_; }

  /// Drops the gradients (undefined, not zero: a parameter that gets no gradient in an iteration is then
  /// left alone by the update, the same whether or not the run was resumed; PyTorch 2's default).
  void zero_grad();
  void step();

  void save(torch::serialize::OutputArchive& archive) const;
  /// requires: the archive was written by an optimizer of the same type over the same grouping.
  void load(torch::serialize::InputArchive& archive);
  torch::optim::Optimizer& impl() { return *impl_; }

 private:
  std::unique_ptr<torch::optim::Optimizer> impl_;
  std::vector<double> multipliers_;
  std::vector<torch::Tensor> params_;
};

}  // namespace detlab
