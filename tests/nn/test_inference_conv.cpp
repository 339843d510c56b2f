// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// InferenceConv: the folded, channels-last inference path against the plain conv -> norm reference, and the
// cases that must keep the plain path (training, gradients).
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include "nn/backbones/inference_conv.h"
#include "nn/backbones/norm.h"
#include "catch_torch.h"

using namespace detlab;

namespace {

/// A module with conv "0" and an optional norm "1", random weights and (for the norms) random statistics, so
/// that folding has something to fold.
struct ConvBlock : torch::nn::Module {
  torch::nn::Conv2d conv{nullptr};
  Norm2d norm;
  InferenceConv run;

  ConvBlock(NormKind kind, torch::nn::Conv2dOptions o) {
    torch::manual_seed(3);
    o.bias(kind == NormKind::kNone);
    conv = register_module("0", torch::nn::Conv2d(o));
    if (kind != NormKind::kNone) {
      NormSpec spec;
      spec.kind = kind;
      norm = Norm2d(*this, "1", o.out_channels(), spec);
      torch::NoGradGuard no_grad;
      for (auto& b : named_buffers()) {
        if (b.key() == "1.running_var") b.value().uniform_(0.5, 2.0);
        if (b.key() == "1.running_mean" || b.key() == "1.bias") b.value().normal_(0, 0.5);
        if (b.key() == "1.weight") b.value().uniform_(0.5, 1.5);
      }
      for (auto& p : named_parameters()) {
        if (p.key() == "1.weight") p.value().uniform_(0.5, 1.5);
        if (p.key() == "1.bias") p.value().normal_(0, 0.5);
      }
    }
    run = InferenceConv(conv, norm);
  }
  /// The naive reference: the registered modules one after the other.
  torch::Tensor reference(const torch::Tensor& x) {
    auto y = conv->forward(x);
    return norm ? norm(y) : y;
  }
};

double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(1e-12, b.abs().max().item<double>());
}

}  // namespace

TEST_CASE("InferenceConv folds the norm and matches conv then norm in eval mode without gradients", "[nn][backbone]") {
  struct Case {
    const char* name;
    NormKind norm;
    torch::nn::Conv2dOptions options;
  };
  const std::vector<Case> cases = {
      {"no norm, 3x3", NormKind::kNone, torch::nn::Conv2dOptions(8, 16, 3).padding(1)},
      {"BatchNorm2d, 1x1 stride 2", NormKind::kBatchNorm, torch::nn::Conv2dOptions(8, 16, 1).stride(2)},
      {"FrozenBatchNorm2d, 7x7 stride 2", NormKind::kFrozenBatchNorm,
       torch::nn::Conv2dOptions(3, 16, 7).stride(2).padding(3)},
      {"BatchNorm2d, depthwise dilated", NormKind::kBatchNorm,
       torch::nn::Conv2dOptions(8, 8, 3).padding(2).dilation(2).groups(8)},
  };
  const torch::Tensor x = torch::randn({2, 8, 23, 31});
  for (const auto& c : cases) {
    INFO(c.name);
    ConvBlock block(c.norm, c.options);
    block.eval();
    const torch::Tensor input = x.slice(1, 0, c.options.in_channels());
    torch::Tensor expected, got, again;
    {
      torch::NoGradGuard no_grad;
      expected = block.reference(input);
      got = block.run(input);
    }
    {
      c10::InferenceMode guard;
      again = block.run(input);
    }
    REQUIRE(got.sizes() == expected.sizes());
    CHECK(rel_diff(got, expected) < 1e-5);
    CHECK(torch::equal(again, got));  // the cached weights serve InferenceMode and NoGradGuard alike
    CHECK(got.is_contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

TEST_CASE("InferenceConv keeps the plain path in training and whenever gradients are on", "[nn][backbone]") {
  ConvBlock block(NormKind::kBatchNorm, torch::nn::Conv2dOptions(4, 6, 3).padding(1));
  const torch::Tensor x = torch::randn({2, 4, 9, 11});

  // Training: batch statistics, running statistics updated, exactly the reference.
  block.train();
  const auto mean_before = block.named_buffers()["1.running_mean"].clone();
  const auto y = block.run(x);
  CHECK_FALSE(torch::equal(block.named_buffers()["1.running_mean"], mean_before));
  CHECK(y.is_contiguous());
  // Normalised by the batch: each channel's mean is the norm's bias.
  CHECK(torch::allclose(y.mean({0, 2, 3}), block.named_parameters()["1.bias"], 1e-5, 1e-5));

  // Eval with gradients (saliency, Grad-CAM): exactly the reference, and the gradient reaches the input.
  block.eval();
  const torch::Tensor xg = x.clone().requires_grad_(true);
  const auto yg = block.run(xg);
  CHECK(torch::equal(yg.detach(), block.reference(x).detach()));
  yg.sum().backward();
  REQUIRE(xg.grad().defined());
  CHECK(xg.grad().abs().sum().item<double>() > 0);
  CHECK(block.conv->weight.grad().defined());
}

TEST_CASE("InferenceConv refolds when the weights or statistics change", "[nn][backbone]") {
  ConvBlock block(NormKind::kFrozenBatchNorm, torch::nn::Conv2dOptions(4, 6, 3).padding(1));
  block.eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 4, 10, 10});
  (void)block.run(x);  // fills the cache

  block.conv->weight.mul_(-2);  // in place: an optimizer step, copy_ from load_state_dict
  CHECK(rel_diff(block.run(x), block.reference(x)) < 1e-5);

  block.named_buffers()["1.running_var"].fill_(4);  // a statistic of the norm
  CHECK(rel_diff(block.run(x), block.reference(x)) < 1e-5);

  block.conv->weight.set_data(torch::randn({6, 4, 3, 3}));  // a new tensor in place of the old one
  CHECK(rel_diff(block.run(x), block.reference(x)) < 1e-5);

  // Weights made under InferenceMode have no version counter: still right, folded on each call.
  {
    c10::InferenceMode guard;
    block.conv->weight.set_data(torch::randn({6, 4, 3, 3}));
    CHECK(rel_diff(block.run(x), block.reference(x)) < 1e-5);
    block.conv->weight.mul_(3);
    CHECK(rel_diff(block.run(x), block.reference(x)) < 1e-5);
  }
}
