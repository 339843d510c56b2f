// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ResNet and small_resnet: torchvision parity (names, outputs), presets, freezing, output shapes.
#include <catch2/catch.hpp>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>

#include "nn/backbones/make_backbone.h"
#include "nn/backbones/resnet.h"
#include "parity.h"

using namespace detlab;

TEST_CASE("resnet50 matches torchvision's logits and layer1..layer4 with its weights", "[nn][backbone]") {
  auto opts = resnet_options(50);
  ResNet model(opts);
  // 2e-4 of the largest value: after 50 layers with folded norms and channels-last convolutions layer4 differs
  // from torchvision's by 1.08e-4 relative on an AMD EPYC without AVX-512 (below 1e-4 on the CPUs before).
  test::check_backbone_parity(model, "resnet50", 2e-4);
}

TEST_CASE("resnet18 matches torchvision's logits and layer1..layer4 with its weights", "[nn][backbone]") {
  ResNet model(resnet_options(18));
  test::check_backbone_parity(model, "resnet18");
}

TEST_CASE("resnet18 with FrozenBatchNorm2d loads a BatchNorm2d checkpoint and gives the same eval outputs",
          "[nn][backbone]") {
  const auto dir = test::tv_fixture("resnet18");
  if (dir.empty()) return;
  auto opts = resnet_options(18);
  opts.norm.kind = NormKind::kFrozenBatchNorm;
  ResNet model(opts);
  const auto state = test::load_tensors(dir / "state_dict.pt");
  // No num_batches_tracked in the model, as torchvision's FrozenBatchNorm2d; the file's counters are ignored.
  for (const auto& kv : module_state_dict(model)) REQUIRE(kv.first.find("num_batches_tracked") == std::string::npos);
  const auto report = load_state_dict(model, state);
  REQUIRE(report.ok());
  REQUIRE(report.ignored.size() == 20);  // one counter per BatchNorm2d of ResNet-18: bn1 + 8 x 2 + 3 downsample
  for (const auto& p : model.parameters()) REQUIRE(p.dim() >= 1);
  REQUIRE(model.parameters().size() == 20 + 2);  // 20 conv weights + fc weight and bias: no BN parameters
  model.eval();
  torch::NoGradGuard no_grad;
  const auto images = test::load_tensors(dir / "inputs.pt").at("images");
  const auto expected = test::load_tensors(dir / "outputs.pt");
  test::require_parity("logits", model.logits(images), expected.at("logits"));
  test::require_parity("layer3", model.forward(images).at("layer3"), expected.at("layer3"));
}

TEST_CASE("small_resnet matches its torchvision-built twin", "[nn][backbone]") {
  auto opts = small_resnet_options();
  opts.num_classes = 10;
  ResNet model(opts);
  test::check_backbone_parity(model, "small_resnet");
}

TEST_CASE("resnet presets have torchvision's parameter counts", "[nn][backbone]") {
  // Published counts of torchvision's ImageNet models (torchvision docs, "num_params").
  auto count = [](int depth) {
    auto o = resnet_options(depth);
    return count_parameters(ResNet(o));
  };
  CHECK(count(18) == 11689512);
  CHECK(count(34) == 21797672);
  CHECK(count(50) == 25557032);
}

TEST_CASE("small_resnet is a few hundred thousand parameters, strides 4..32", "[nn][backbone]") {
  auto bb = make_backbone("small_resnet");
  const int64_t n = count_parameters(*bb);
  INFO("small_resnet parameters: " << n);
  CHECK(n > 300000);
  CHECK(n < 3000000);
  const auto shapes = bb->output_shape();
  REQUIRE(shapes.size() == 4);
  CHECK(shapes.at("layer1").channels == 16);
  CHECK(shapes.at("layer1").stride == 4);
  CHECK(shapes.at("layer4").channels == 128);
  CHECK(shapes.at("layer4").stride == 32);
}

TEST_CASE("resnet trainable_layers freezes as torchvision's resnet_fpn_backbone", "[nn][backbone]") {
  auto opts = resnet_options(18);
  opts.trainable_layers = 3;  // torchvision's default for detectors: layer2..layer4 train
  ResNet model(opts);
  for (const auto& p : model.named_parameters()) {
    const std::string& k = p.key();
    const bool trains = k.rfind("layer2.", 0) == 0 || k.rfind("layer3.", 0) == 0 || k.rfind("layer4.", 0) == 0 ||
                        k.rfind("fc.", 0) == 0;
    INFO(k);
    CHECK(p.value().requires_grad() == trains);
  }
  opts.trainable_layers = 5;
  ResNet all(opts);
  CHECK(count_parameters(all, /*trainable_only=*/true) == count_parameters(all));
  opts.trainable_layers = 0;
  ResNet none(opts);
  CHECK(count_parameters(none, true) == 512 * 1000 + 1000);  // only fc
  opts.trainable_layers = 6;
  CHECK_THROWS(ResNet(opts));
}

TEST_CASE("resnet zero_init_residual zeroes the last norm of every block", "[nn][backbone]") {
  auto opts = resnet_options(50);
  opts.layers = {1, 1, 1, 1};  // the rule does not depend on depth; keep the test fast
  opts.zero_init_residual = true;
  ResNet model(opts);
  int zeroed = 0;
  for (const auto& p : model.named_parameters()) {
    if (p.key().find(".bn3.weight") != std::string::npos) {
      CHECK(p.value().abs().sum().item<double>() == 0.0);
      ++zeroed;
    }
  }
  CHECK(zeroed == 4);
}

TEST_CASE("resnet forward returns only the requested taps, ceil-strided for any input size", "[nn][backbone]") {
  auto opts = small_resnet_options();
  opts.out_features = {"layer2", "layer4"};
  ResNet model(opts);
  model.eval();
  torch::NoGradGuard no_grad;
  const auto out = model.forward(torch::randn({2, 3, 97, 130}));
  REQUIRE(out.size() == 2);
  CHECK(out.at("layer2").sizes() == torch::IntArrayRef({2, 32, 13, 17}));  // ceil(97/8), ceil(130/8)
  CHECK(out.at("layer4").sizes() == torch::IntArrayRef({2, 128, 4, 5}));   // ceil(97/32), ceil(130/32)
  CHECK_THROWS(model.logits(torch::randn({1, 3, 64, 64})));                // built without a head
  opts.out_features = {"res5"};
  CHECK_THROWS(ResNet(opts));
}

TEST_CASE("small_resnet learns a toy task from scratch (BatchNorm statistics and gradients work)", "[nn][backbone]") {
  // Class = which half of a 64 x 64 noise image holds a bright square: trivial for a working network, impossible
  // for one whose gradients or normalisation statistics are broken.
  torch::manual_seed(0);
  auto batch = [](int64_t n) {
    const auto labels = torch::randint(0, 2, {n}, torch::kLong);
    auto x = torch::randn({n, 3, 64, 64}) * 0.5;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t left = labels[i].item<int64_t>() == 1 ? 36 : 4;
      x.index({i, torch::indexing::Slice(), torch::indexing::Slice(20, 44),
               torch::indexing::Slice(left, left + 24)}) += 1.5;
    }
    return std::make_pair(x, labels);
  };
  BackboneOptions o;
  o.num_classes = 2;
  auto net = make_backbone("small_resnet", o);
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  net->train();
  for (int step = 0; step < 40; ++step) {
    const auto [x, y] = batch(32);
    opt.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(net->logits(x), y);
    loss.backward();
    opt.step();
  }
  net->eval();
  torch::NoGradGuard no_grad;
  const auto [x, y] = batch(200);
  const double accuracy = net->logits(x).argmax(1).eq(y).to(torch::kDouble).mean().item<double>();
  INFO("held-out accuracy after 40 steps: " << accuracy);
  CHECK(accuracy >= 0.9);
}
