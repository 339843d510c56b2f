// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// VGG and small_vgg: torchvision parity (names, outputs), taps, freezing, size divisibility.
#include <catch2/catch.hpp>

#include "nn/backbones/make_backbone.h"
#include "nn/backbones/vgg.h"
#include "parity.h"

using namespace detlab;

// One test for VGG-16: its random state dict is 528 MB, so it is read once and used for both checks.
TEST_CASE("vgg16 matches torchvision's logits, conv4_3 and conv5_3 with its weights", "[nn][backbone]") {
  auto opts = vgg_options(16);
  opts.out_features = {"conv4_3", "conv5_3"};
  Vgg model(opts);
  test::check_backbone_parity(model, "vgg16");
  CHECK(model.size_divisibility() == 16);
}

TEST_CASE("small_vgg matches its torchvision-built twin", "[nn][backbone]") {
  auto opts = small_vgg_options();
  opts.num_classes = 10;
  opts.out_features = {"conv3_2", "conv4_2", "conv5_2", "pool5"};
  Vgg model(opts);
  test::check_backbone_parity(model, "small_vgg");
  CHECK(model.size_divisibility() == 32);
}

TEST_CASE("vgg presets have torchvision's parameter counts and tap names", "[nn][backbone]") {
  auto o16 = vgg_options(16);
  o16.num_classes = 0;  // the 4096-wide head alone is 124 M parameters; count it arithmetically
  Vgg features(o16);
  const int64_t head = (512 * 7 * 7 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000;
  CHECK(count_parameters(features) + head == 138357544);  // torchvision docs: VGG16 num_params
  const auto& taps = features.available_features();
  CHECK(taps.size() == 13 + 5);
  CHECK(taps.at("conv1_1").stride == 1);
  CHECK(taps.at("conv4_3").channels == 512);
  CHECK(taps.at("conv4_3").stride == 8);
  CHECK(taps.at("conv5_3").stride == 16);
  CHECK(taps.at("pool5").stride == 32);
  CHECK(features.size_divisibility() == 16);  // default out_features = conv5_3
  auto o = vgg_options(16);
  o.out_features = {"conv6_1"};
  CHECK_THROWS(Vgg(o));
}

TEST_CASE("small_vgg is a few hundred thousand parameters", "[nn][backbone]") {
  auto bb = make_backbone("small_vgg");
  const int64_t n = count_parameters(*bb);
  INFO("small_vgg parameters: " << n);
  CHECK(n > 300000);
  CHECK(n < 3000000);
}

TEST_CASE("vgg trainable_layers freezes the first stages (Fast R-CNN fine-tunes conv3_1 and up)", "[nn][backbone]") {
  auto o = vgg_options(16);
  o.num_classes = 0;
  o.trainable_layers = 3;
  Vgg model(o);
  for (const auto& p : model.named_parameters()) {
    // features.0..9 are conv1_1..conv2_2 and their ReLUs / pools; conv3_1 is features.10
    const int index = std::stoi(p.key().substr(std::string("features.").size()));
    INFO(p.key());
    CHECK(p.value().requires_grad() == (index >= 10));
  }
  o.trainable_layers = 6;
  CHECK_THROWS(Vgg(o));
}

TEST_CASE("vgg16_bn has torchvision's vgg16_bn names", "[nn][backbone]") {
  auto bb = make_backbone("vgg16_bn");
  const auto keys = module_state_dict(*bb);
  CHECK(keys.count("features.1.running_var"));      // conv, BN, ReLU
  CHECK(keys.count("features.40.weight"));          // conv5_3: after 12 x (conv, BN, ReLU) and 4 pools
  CHECK(keys.count("features.41.running_mean"));    // its BN
  CHECK(bb->output_shape().at("conv5_3").stride == 16);
}

TEST_CASE("vgg with BatchNorm: the inference path (norms folded) gives the plain path's taps", "[nn][backbone]") {
  VggOptions o = small_vgg_options();
  o.batch_norm = true;
  o.out_features = {"conv2_1", "pool3", "conv5_2"};  // a ReLU tap, a pool tap and the last layer
  torch::manual_seed(5);
  Vgg model(o);
  {
    torch::NoGradGuard no_grad;  // statistics that make the folding do something
    for (auto& b : model.named_buffers()) {
      if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
      if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0, 0.3);
    }
  }
  model.eval();
  const torch::Tensor x = torch::randn({1, 3, 64, 96});
  const auto plain = model.forward(x);  // gradients on: conv, then BatchNorm2d, as registered
  torch::NoGradGuard no_grad;
  const auto fast = model.forward(x);
  REQUIRE(fast.size() == 3);
  for (const auto& [name, t] : plain) {
    INFO(name);
    test::require_parity(name, fast.at(name), t.detach());
  }
}
