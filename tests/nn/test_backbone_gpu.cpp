// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// CUDA checks ([.gpu], hidden in the default run): backbones on the GPU agree with the CPU.
#include <catch2/catch.hpp>

#include <torch/cuda.h>

#include "nn/backbones/make_backbone.h"
#include "tv_fixture.h"

using namespace detlab;

namespace {

// The same module on CPU and CUDA, eval mode, same input: outputs agree to cuDNN-vs-CPU precision.
// TF32 is off for convolutions by default in LibTorch 1.13 / 2.x (torch.backends.cudnn.allow_tf32 aside),
// so the bound is the float32 one used for the torchvision parity, relative to the output magnitude.
void check_cuda_matches_cpu(const std::string& name, const BackboneOptions& options, int64_t h, int64_t w) {
  REQUIRE(torch::cuda::is_available());
  torch::manual_seed(7);
  auto bb = make_backbone(name, options);
  bb->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 3, h, w});
  const auto cpu = bb->forward(x);
  bb->to(torch::kCUDA);
  const auto gpu = bb->forward(x.to(torch::kCUDA));
  REQUIRE(gpu.size() == cpu.size());
  for (const auto& kv : cpu) {
    const auto g = gpu.at(kv.first).cpu();
    INFO(name << " " << kv.first << " max abs diff " << test::max_abs_diff(g, kv.second));
    CHECK(test::max_abs_diff(g, kv.second) <= 1e-3 * std::max(1.0, kv.second.abs().max().item<double>()));
  }
}

}  // namespace

TEST_CASE("backbones on CUDA match the CPU", "[.gpu]") {
  for (const std::string name : {"small_resnet", "resnet50", "mobilenet_v3_large", "vgg16"}) {
    SECTION(name) { check_cuda_matches_cpu(name, BackboneOptions{}, 224, 288); }
  }
  SECTION("resnet50 + fpn") {
    BackboneOptions o;
    o.fpn = FpnOptions{};
    o.norm = NormKind::kFrozenBatchNorm;
    check_cuda_matches_cpu("resnet50", o, 250, 330);
  }
}

TEST_CASE("a backbone trains on CUDA: gradients reach every trainable parameter", "[.gpu]") {
  REQUIRE(torch::cuda::is_available());
  BackboneOptions o;
  o.fpn = FpnOptions{};
  auto bb = make_backbone("small_resnet", o);
  bb->to(torch::kCUDA);
  bb->train();
  const auto out = bb->forward(torch::randn({2, 3, 128, 160}, torch::kCUDA));
  torch::Tensor loss = torch::zeros({}, torch::kCUDA);
  for (const auto& kv : out) loss = loss + kv.second.square().mean();
  loss.backward();
  for (const auto& p : bb->named_parameters()) {
    INFO(p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(p.value().grad().is_cuda());
  }
}
