// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// GroupedOptimizer: parameter grouping and the LibTorch SGD / AdamW behind it.
#include "train/optim.h"

#include <cmath>

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "config/config.h"
#include "core/error.h"

namespace detlab {

OptimizerOptions parse_optimizer(const Config& node) {
  OptimizerOptions o;
  const std::string type = node.get<std::string>("optimizer", "sgd");
  if (type == "sgd")
    o.type = OptimizerOptions::Type::kSgd;
  else if (type == "adamw")
    o.type = OptimizerOptions::Type::kAdamW;
  else
    throw InputError(node.file(), node.child_path("optimizer"), "unknown optimizer '" + type + "' (known: sgd, adamw)");
  o.lr = node.get<double>("lr", o.lr);
  o.momentum = node.get<double>("momentum", o.momentum);
  o.nesterov = node.get<bool>("nesterov", o.nesterov);
  o.weight_decay = node.get<double>("weight_decay", o.weight_decay);
  if (node.has("betas")) {
    const std::vector<double> b = node.get<std::vector<double>>("betas");
    if (b.size() != 2 || !(b[0] >= 0 && b[0] < 1 && b[1] >= 0 && b[1] < 1))
      throw InputError(node.file(), node.child_path("betas"), "expected [beta1, beta2], each in [0, 1)");
    o.beta1 = b[0];
    o.beta2 = b[1];
  }
  o.eps = node.get<double>("eps", o.eps);
  o.decay_norm_and_bias = node.get<bool>("decay_norm_and_bias", o.decay_norm_and_bias);
  if (!(o.lr > 0) || !std::isfinite(o.lr)) throw InputError(node.file(), node.child_path("lr"), "must be positive");
  if (!(o.momentum >= 0)) throw InputError(node.file(), node.child_path("momentum"), "must be >= 0");
  if (!(o.weight_decay >= 0)) throw InputError(node.file(), node.child_path("weight_decay"), "must be >= 0");
  if (!(o.eps > 0)) throw InputError(node.file(), node.child_path("eps"), "must be positive");
  if (o.nesterov && !(o.momentum > 0))
    throw InputError(node.file(), node.child_path("nesterov"), "needs a positive momentum");
  return o;
}

GroupedOptimizer::GroupedOptimizer(torch::nn::Module& module, const OptimizerOptions& opts,
                                   const LrMultiplierFn& lr_multiplier) {
  struct Group {
    double multiplier, decay;
    std::vector<torch::Tensor> params;
  };
  std::vector<Group> groups;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    const torch::Tensor& p = item.value();
    if (!p.requires_grad()) continue;
    const double mult = lr_multiplier ? lr_multiplier(item.key()) : 1.0;
    DETLAB_REQUIRE(std::isfinite(mult) && mult >= 0, "lr multiplier of", item.key(), mult);
    const double decay = (!opts.decay_norm_and_bias && p.dim() <= 1) ? 0.0 : opts.weight_decay;
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const Group& x) { return x.multiplier == mult && x.decay == decay; });
    if (g == groups.end()) g = groups.insert(groups.end(), Group{mult, decay, {}});
    g->params.push_back(p);
  }
  DETLAB_REQUIRE(!groups.empty(), "the module has no trainable parameters");

  std::vector<torch::optim::OptimizerParamGroup> torch_groups;
  for (const Group& g : groups) {
    multipliers_.push_back(g.multiplier);
    params_.insert(params_.end(), g.params.begin(), g.params.end());
    if (opts.type == OptimizerOptions::Type::kSgd) {
      auto o = std::make_unique<torch::optim::SGDOptions>(opts.lr * g.multiplier);
      o->momentum(opts.momentum).nesterov(opts.nesterov).weight_decay(g.decay);
      torch_groups.emplace_back(g.params, std::move(o));
    } else {
      auto o = std::make_unique<torch::optim::AdamWOptions>(opts.lr * g.multiplier);
      o->betas(std::make_tuple(opts.beta1, opts.beta2)).eps(opts.eps).weight_decay(g.decay);
      torch_groups.emplace_back(g.params, std::move(o));
    }
  }
  if (opts.type == OptimizerOptions::Type::kSgd) {
    torch::optim::SGDOptions defaults(opts.lr);
    defaults.momentum(opts.momentum).nesterov(opts.nesterov).weight_decay(opts.weight_decay);
    impl_ = std::make_unique<torch::optim::SGD>(std::move(torch_groups), defaults);
  } else {
    torch::optim::AdamWOptions defaults(opts.lr);
    defaults.betas(std::make_tuple(opts.beta1, opts.beta2)).eps(opts.eps).weight_decay(opts.weight_decay);
    impl_ = std::make_unique<torch::optim::AdamW>(std::move(torch_groups), defaults);
  }
}

GroupedOptimizer::~GroupedOptimizer() = default;

void GroupedOptimizer::set_lr(double base_lr) {
  auto& groups = impl_->param_groups();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(base_lr * multipliers_[i]);
}

double GroupedOptimizer::group_lr(size_t group) const { return impl_->param_groups().at(group).options().get_lr(); }

double GroupedOptimizer::group_weight_decay(size_t group) const {
  const auto& o = impl_->param_groups().at(group).options();
  if (auto* s = dynamic_cast<const torch::optim::SGDOptions*>(&o)) return s->weight_decay();
  return static_cast<const torch::optim::AdamWOptions&>(o).weight_decay();
}

void GroupedOptimizer::zero_grad() {
  for (torch::Tensor& p : params_) p.mutable_grad() = torch::Tensor();
}

void GroupedOptimizer::step() { impl_->step(); }

void GroupedOptimizer::save(torch::serialize::OutputArchive& archive) const { impl_->save(archive); }

void GroupedOptimizer::load(torch::serialize::InputArchive& archive) { impl_->load(archive); }

}  // namespace detlab
