// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of GroupedOptimizer: SGD / AdamW steps against hand-computed updates, grouping, parsing.
#include "catch_torch.h"

#include <cmath>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>

#include "config/config.h"
#include "core/error.h"
#include "train/optim.h"

using namespace detlab;

namespace {

/// One parameter p = [1, 2] and the loss c . p with c = [3, 4], so that the gradient is c.
struct Dot : torch::nn::Module {
  Dot() { p = register_parameter("p", torch::tensor({1.0, 2.0}, torch::kFloat64)); }
  void backward() { (p * torch::tensor({3.0, 4.0}, torch::kFloat64)).sum().backward(); }
  torch::Tensor p;
};

}  // namespace

TEST_CASE("SGD with momentum and weight decay matches the hand-computed update", "[train][optim]") {
  Dot m;
  OptimizerOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.weight_decay = 0.01;
  GroupedOptimizer opt(m, o);
  const double c[2] = {3, 4};
  double p[2] = {1, 2}, buf[2];
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    m.backward();
    opt.step();
    for (int i = 0; i < 2; ++i) {
      const double g = c[i] + 0.01 * p[i];
      buf[i] = step == 0 ? g : 0.9 * buf[i] + g;  // the first step initializes the buffer with g
      p[i] -= 0.1 * buf[i];
    }
    INFO("step " << step);
    CHECK(m.p[0].item<double>() == Approx(p[0]).epsilon(1e-12));
    CHECK(m.p[1].item<double>() == Approx(p[1]).epsilon(1e-12));
    if (step == 0) {  // spelled out: g = c + 0.01 p = [3.01, 4.02]; p - 0.1 g
      CHECK(m.p[0].item<double>() == Approx(0.699).epsilon(1e-12));
      CHECK(m.p[1].item<double>() == Approx(1.598).epsilon(1e-12));
    }
  }
}

TEST_CASE("AdamW matches the hand-computed decoupled-decay update", "[train][optim]") {
  Dot m;
  OptimizerOptions o;
  o.type = OptimizerOptions::Type::kAdamW;
  o.lr = 0.1;
  o.weight_decay = 0.01;
  GroupedOptimizer opt(m, o);
  opt.zero_grad();
  m.backward();
  opt.step();
  // Step 1: p *= 1 - lr * wd; m_hat = g, v_hat = g^2, so p -= lr * g / (|g| + eps) = lr (g > 0).
  CHECK(m.p[0].item<double>() == Approx(1 * 0.999 - 0.1 * 3 / (3 + 1e-8)).epsilon(1e-12));
  CHECK(m.p[1].item<double>() == Approx(2 * 0.999 - 0.1 * 4 / (4 + 1e-8)).epsilon(1e-12));
  double p[2] = {m.p[0].item<double>(), m.p[1].item<double>()};
  opt.zero_grad();
  m.backward();
  opt.step();
  for (int i = 0; i < 2; ++i) {
    const double g = i == 0 ? 3 : 4;
    const double mom = 0.9 * 0.1 * g + 0.1 * g, var = 0.999 * 0.001 * g * g + 0.001 * g * g;
    const double m_hat = mom / (1 - 0.9 * 0.9), v_hat = var / (1 - 0.999 * 0.999);
    p[i] = p[i] * 0.999 - 0.1 * m_hat / (std::sqrt(v_hat) + 1e-8);
    CHECK(m.p[i].item<double>() == Approx(p[i]).epsilon(1e-12));
  }
}

TEST_CASE("parameters are grouped by lr multiplier and decay, frozen ones are left out", "[train][optim]") {
  struct Net : torch::nn::Module {
    Net() {
      fc = register_module("fc", torch::nn::Linear(3, 2));
      bn = register_module("bn", torch::nn::BatchNorm1d(2));
      frozen = register_module("frozen", torch::nn::Linear(2, 2));
      for (auto& p : frozen->parameters()) p.set_requires_grad(false);
    }
    torch::nn::Linear fc{nullptr}, frozen{nullptr};
    torch::nn::BatchNorm1d bn{nullptr};
  } net;
  OptimizerOptions o;
  o.weight_decay = 1e-4;
  o.decay_norm_and_bias = false;
  GroupedOptimizer opt(net, o, [](const std::string& name) { return name.rfind("bn.", 0) == 0 ? 0.5 : 1.0; });
  REQUIRE(opt.num_groups() == 3);  // fc.weight | fc.bias | bn.weight + bn.bias
  CHECK(opt.group_multiplier(0) == 1.0);
  CHECK(opt.group_weight_decay(0) == 1e-4);
  CHECK(opt.group_multiplier(1) == 1.0);
  CHECK(opt.group_weight_decay(1) == 0.0);
  CHECK(opt.group_multiplier(2) == 0.5);
  CHECK(opt.group_weight_decay(2) == 0.0);
  CHECK(opt.parameters().size() == 4);
  opt.set_lr(0.2);
  CHECK(opt.group_lr(0) == 0.2);
  CHECK(opt.group_lr(2) == 0.1);

  o.decay_norm_and_bias = true;
  CHECK(GroupedOptimizer(net, o).num_groups() == 1);

  torch::Tensor x = torch::randn({4, 3});
  net.bn(net.fc(x)).sum().backward();
  CHECK(net.fc->weight.grad().defined());
  opt.zero_grad();
  CHECK_FALSE(net.fc->weight.grad().defined());  // dropped, not zeroed
}

TEST_CASE("parse_optimizer reads its keys and names bad ones", "[train][optim]") {
  Config c = Config::parse("optimizer: adamw\nlr: 0.0001\nweight_decay: 0.05\nbetas: [0.8, 0.99]\neps: 1e-6\n"
                           "decay_norm_and_bias: false\nmomentum: 0\n");
  const OptimizerOptions o = parse_optimizer(c);
  c.expect_consumed();
  CHECK(o.type == OptimizerOptions::Type::kAdamW);
  CHECK(o.lr == 0.0001);
  CHECK(o.weight_decay == 0.05);
  CHECK(o.beta1 == 0.8);
  CHECK(o.beta2 == 0.99);
  CHECK(o.eps == 1e-6);
  CHECK_FALSE(o.decay_norm_and_bias);
  CHECK_THROWS_WITH(parse_optimizer(Config::parse("optimizer: lamb")), Catch::Contains("optimizer") && Catch::Contains("lamb"));
  CHECK_THROWS_WITH(parse_optimizer(Config::parse("lr: -1")), Catch::Contains("lr"));
  CHECK_THROWS_WITH(parse_optimizer(Config::parse("betas: [0.9]")), Catch::Contains("betas"));
  CHECK_THROWS_AS(parse_optimizer(Config::parse("nesterov: true\nmomentum: 0")), InputError);
}
