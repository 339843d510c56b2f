// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Contract test over every name make_backbone() knows: keys, channels and ceil-strided sizes of the outputs.
#include <catch2/catch.hpp>

#include "nn/backbones/make_backbone.h"
#include "catch_torch.h"

using namespace detlab;

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

void check_contract(Backbone& bb, const std::string& name, int64_t h, int64_t w) {
  const int64_t d = bb.size_divisibility();
  if (d > 0) {
    h = ceil_div(h, d) * d;
    w = ceil_div(w, d) * d;
  }
  bb.eval();
  torch::NoGradGuard no_grad;
  const auto out = bb.forward(torch::randn({2, 3, h, w}));
  const auto shapes = bb.output_shape();
  REQUIRE(out.size() == shapes.size());
  for (const auto& kv : shapes) {
    INFO(name << " output " << kv.first << " on " << h << " x " << w);
    REQUIRE(out.count(kv.first));
    const auto& t = out.at(kv.first);
    CHECK(t.sizes() ==
          torch::IntArrayRef({2, kv.second.channels, ceil_div(h, kv.second.stride), ceil_div(w, kv.second.stride)}));
  }
}

}  // namespace

TEST_CASE("every registered backbone honours its output_shape contract", "[nn][backbone]") {
  for (const auto& name : backbone_names()) {
    SECTION(name) {
      auto bb = make_backbone(name);
      REQUIRE(bb);
      CHECK(bb->num_classes() == 0);
      CHECK(bb->is_training());
      check_contract(*bb, name, 75, 101);  // odd sizes: strides must round up (or size_divisibility apply)
    }
  }
}

TEST_CASE("every registered backbone with an FPN honours its output_shape contract", "[nn][backbone]") {
  for (const std::string name : {"small_resnet", "small_vgg", "mobilenet_v3_small", "resnet18"}) {
    SECTION(name) {
      BackboneOptions o;
      o.fpn = FpnOptions{};
      o.fpn->out_channels = 32;
      check_contract(*make_backbone(name, o), name + "+fpn", 75, 101);
    }
  }
}

TEST_CASE("make_backbone builds classifiers and rejects unknown names and options", "[nn][backbone]") {
  BackboneOptions o;
  o.num_classes = 7;
  auto bb = make_backbone("small_resnet", o);
  CHECK(bb->num_classes() == 7);
  bb->eval();
  torch::NoGradGuard no_grad;
  CHECK(bb->logits(torch::randn({3, 3, 64, 64})).sizes() == torch::IntArrayRef({3, 7}));
  CHECK_THROWS_WITH(make_backbone("resnet51"), Catch::Contains("unknown backbone 'resnet51'"));
  BackboneOptions wm;
  wm.width_mult = 0.5;
  CHECK_THROWS(make_backbone("resnet18", wm));
  auto mb = make_backbone("mobilenet_v3_small", wm);
  CHECK(count_parameters(*mb) < count_parameters(*make_backbone("mobilenet_v3_small")));
  BackboneOptions taps;
  taps.out_features = {"layer3"};
  CHECK(make_backbone("resnet18", taps)->output_shape().size() == 1);
}
