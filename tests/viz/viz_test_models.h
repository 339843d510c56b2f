// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Small ScoreModels with known answers for the viz/ tests.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include "viz/score_model.h"

namespace detlab::test {

/// conv 3->4 (3x3, pad 1) -> tanh -> conv 4->6 (3x3, stride 2, pad 1) -> tanh -> GAP -> linear 6->3.
/// Smooth (tanh), so finite differences match the gradient closely; double precision by default.
class TinyNet : public torch::nn::Module {
 public:
  TinyNet() {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(1)));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 6, 3).stride(2).padding(1)));
    fc = register_module("fc", torch::nn::Linear(6, 3));
  }
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc{nullptr};
};

class TinyScoreModel : public ScoreModel {
 public:
  TinyScoreModel() : net_(std::make_shared<TinyNet>()) {
    net_->to(torch::kDouble);
    transform_.min_size = 0;  // keep the size
    transform_.size_divisibility = 1;
    gap_.layer = "conv2";
    gap_.weight = net_->fc->weight.detach();
    gap_.bias = net_->fc->bias.detach();
  }
  std::vector<std::string> layers() const override { return {"conv1", "conv2"}; }
  std::vector<std::string> score_names() const override { return {"a", "b", "c"}; }
  TapMap features(const torch::Tensor& x) override {
    TapMap m;
    m["conv1"] = torch::tanh(net_->conv1->forward(x));
    m["conv2"] = torch::tanh(net_->conv2->forward(m["conv1"]));
    return m;
  }
  torch::Tensor forward(const torch::Tensor& x, TapMap* maps) override {
    TapMap m = features(x);
    torch::Tensor s = net_->fc->forward(m.at("conv2").mean({2, 3}));
    if (maps) *maps = std::move(m);
    return s;
  }
  const TransformOptions& transform() const override { return transform_; }
  torch::nn::Module& module() override { return *net_; }
  torch::Device device() const override { return torch::kCPU; }
  const GapLinear* gap_linear() const override { return &gap_; }

  std::shared_ptr<TinyNet> net_;
  TransformOptions transform_;
  GapLinear gap_;
};

/// score = mean of channel 0 over the rows [y0, y1) and columns [x0, x1) of the input; one layer: the input.
class RegionMeanModel : public ScoreModel {
 public:
  RegionMeanModel(int64_t y0, int64_t y1, int64_t x0, int64_t x1) : y0_(y0), y1_(y1), x0_(x0), x1_(x1) {
    transform_.min_size = 0;
    transform_.size_divisibility = 1;
  }
  std::vector<std::string> layers() const override { return {"input"}; }
  std::vector<std::string> score_names() const override { return {"region"}; }
  TapMap features(const torch::Tensor& x) override { return {{"input", x}}; }
  torch::Tensor forward(const torch::Tensor& x, TapMap* maps) override {
    if (maps) *maps = features(x);
    return x.select(1, 0).narrow(1, y0_, y1_ - y0_).narrow(2, x0_, x1_ - x0_).mean({1, 2}).unsqueeze(1);
  }
  const TransformOptions& transform() const override { return transform_; }
  torch::nn::Module& module() override { return module_; }
  torch::Device device() const override { return torch::kCPU; }

 private:
  int64_t y0_, y1_, x0_, x1_;
  TransformOptions transform_;
  torch::nn::Module module_;
};

}  // namespace detlab::test
