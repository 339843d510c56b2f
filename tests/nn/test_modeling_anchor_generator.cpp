// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests for nn/modeling/anchor_generator: stated cell anchors and grid, shapes, torchvision parity.

#include "nn/modeling/anchor_generator.h"
#include "tv_ops_fixture.h"

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

using namespace detlab;

using detlab::AnchorGenerator;
using detlab::AnchorGeneratorOptions;

TEST_CASE("AnchorGenerator builds rounded cell anchors and tiles them with integer strides", "[nn][anchor_generator]") {
  // Size 32 with ratios 0.5 / 1 / 2: w = 32 / sqrt(r), h = 32 sqrt(r); half-extents rounded (half to even).
  const at::Tensor cell = AnchorGenerator::generate_anchors({32}, {0.5, 1.0, 2.0});
  CHECK(cell.equal(
      at::tensor({-23.f, -11.f, 23.f, 11.f, -16.f, -16.f, 16.f, 16.f, -11.f, -23.f, 11.f, 23.f}).view({3, 4})));
  AnchorGeneratorOptions o;
  o.sizes = {{32}, {64}};
  o.aspect_ratios = {{1.0}};  // one list shared by both levels
  const AnchorGenerator gen(o);
  CHECK(gen.num_anchors_per_location() == std::vector<int64_t>{1, 1});
  // Image 64 x 70; maps 4 x 4 (stride 16, 17 = 70 // 4) and 2 x 3 (stride 32, 23).
  const auto anchors = gen.forward(at::zeros({2, 3, 64, 70}), {at::zeros({2, 8, 4, 4}), at::zeros({2, 8, 2, 3})});
  REQUIRE(anchors.size() == 2);
  CHECK(anchors[0].sizes() == at::IntArrayRef({16 + 6, 4}));
  CHECK(anchors[0][0].equal(at::tensor({-16.f, -16.f, 16.f, 16.f})));
  CHECK(anchors[0][1].equal(at::tensor({1.f, -16.f, 33.f, 16.f})));      // next column: x + 17
  CHECK(anchors[0][4].equal(at::tensor({-16.f, 0.f, 16.f, 32.f})));      // next row: y + 16
  CHECK(anchors[0][16 + 5].equal(at::tensor({14.f, 0.f, 78.f, 64.f})));  // level 2, row 1, column 2
  CHECK(anchors[1].equal(anchors[0]));
  CHECK_THROWS_AS(gen.forward(at::zeros({1, 3, 64, 64}), {at::zeros({1, 8, 4, 4})}), c10::Error);
}

TEST_CASE("AnchorGenerator matches torchvision", "[nn][anchor_generator][torchvision]") {
  const auto fx = detlab::test::TvOpsFixture::load("anchor_generator");
  if (!fx) return;
  for (int64_t i = 0; i < fx->cases(); ++i) {
    const std::string k = std::to_string(i) + ".";
    AnchorGeneratorOptions o;
    o.sizes.clear();
    o.aspect_ratios.clear();
    std::vector<at::Tensor> maps;
    for (int64_t l = 0; l < fx->integer(k + "levels"); ++l) {
      const std::string lk = k + std::to_string(l);
      const at::Tensor s = fx->tensor(k + "sizes" + std::to_string(l));
      const at::Tensor r = fx->tensor(k + "ratios" + std::to_string(l));
      o.sizes.emplace_back(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
      o.aspect_ratios.emplace_back(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
      const at::Tensor f = fx->tensor(k + "fmap" + std::to_string(l));
      maps.push_back(at::zeros({2, 1, f[0].item<int64_t>(), f[1].item<int64_t>()}));
    }
    const AnchorGenerator gen(o);
    INFO("case " << i);
    for (size_t l = 0; l < maps.size(); ++l)
      CHECK(gen.cell_anchors()[l].equal(fx->tensor(k + "cell" + std::to_string(l))));
    const at::Tensor image = fx->tensor(k + "image");
    const auto anchors = gen.forward(at::zeros({2, 3, image[0].item<int64_t>(), image[1].item<int64_t>()}), maps);
    REQUIRE(static_cast<int64_t>(anchors.size()) == fx->integer(k + "num_images"));
    CHECK(anchors[0].equal(fx->tensor(k + "anchors")));
  }
}
