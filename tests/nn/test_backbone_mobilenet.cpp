// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// MobileNetV3 Large / Small: torchvision parity (names, outputs, detection taps), stages, freezing.
#include <catch2/catch.hpp>

#include "nn/backbones/make_backbone.h"
#include "nn/backbones/mobilenet_v3.h"
#include "parity.h"

using namespace detlab;

TEST_CASE("mobilenet_v3_large matches torchvision's logits and detection taps with its weights", "[nn][backbone]") {
  MobileNetV3Options o;
  o.out_features = {"features.13.block.0", "features.13", "features.16"};
  MobileNetV3 model(o);
  test::check_backbone_parity(model, "mobilenet_v3_large");
}

TEST_CASE("mobilenet_v3_small matches torchvision's logits and detection taps with its weights", "[nn][backbone]") {
  MobileNetV3Options o;
  o.arch = MobileNetV3Options::Arch::kSmall;
  o.out_features = {"features.9.block.0", "features.9", "features.12"};
  MobileNetV3 model(o);
  test::check_backbone_parity(model, "mobilenet_v3_small");
}

TEST_CASE("mobilenet_v3 presets have torchvision's parameter counts, stages and default taps", "[nn][backbone]") {
  MobileNetV3 large{MobileNetV3Options{}};
  CHECK(count_parameters(large) == 5483032);  // torchvision docs: MobileNet_V3_Large num_params
  CHECK(large.stage_indices() == std::vector<int>{0, 2, 4, 7, 13, 16});
  const auto shapes = large.output_shape();  // fasterrcnn_mobilenet_v3_large_fpn's taps
  REQUIRE(shapes.size() == 2);
  CHECK(shapes.at("features.13").channels == 160);
  CHECK(shapes.at("features.13").stride == 32);
  CHECK(shapes.at("features.16").channels == 960);
  CHECK(shapes.at("features.16").stride == 32);
  CHECK(large.available_features().at("features.13.block.0").channels == 672);  // ssdlite's C4 expansion
  CHECK(large.available_features().at("features.13.block.0").stride == 16);
  CHECK(large.available_features().at("features.3").stride == 4);
  CHECK(large.available_features().at("features.6").stride == 8);

  MobileNetV3Options so;
  so.arch = MobileNetV3Options::Arch::kSmall;
  MobileNetV3 small(so);
  CHECK(count_parameters(small) == 2542856);  // torchvision docs: MobileNet_V3_Small num_params
  CHECK(make_divisible(16 * 0.75) == 16);
  CHECK(make_divisible(72 * 0.5) == 40);
  CHECK(make_divisible(240 / 4) == 64);
}

TEST_CASE("mobilenet_v3 trainable_layers follows torchvision's _mobilenet_extractor", "[nn][backbone]") {
  MobileNetV3Options o;
  o.num_classes = 0;
  o.trainable_layers = 3;  // torchvision's detector default: stage_indices[6 - 3] = 7, features.0..6 frozen
  MobileNetV3 model(o);
  for (const auto& p : model.named_parameters()) {
    const int index = std::stoi(p.key().substr(std::string("features.").size()));
    INFO(p.key());
    CHECK(p.value().requires_grad() == (index >= 7));
  }
  o.trainable_layers = 7;
  CHECK_THROWS(MobileNetV3(o));
}

TEST_CASE("mobilenet_v3 dilated keeps the last stage at stride 16", "[nn][backbone]") {
  MobileNetV3Options o;
  o.num_classes = 0;
  o.dilated = true;
  MobileNetV3 model(o);
  model.eval();
  torch::NoGradGuard no_grad;
  const auto out = model.forward(torch::randn({1, 3, 96, 128}));
  CHECK(model.output_shape().at("features.16").stride == 16);
  CHECK(out.at("features.16").sizes() == torch::IntArrayRef({1, 960, 6, 8}));
}
