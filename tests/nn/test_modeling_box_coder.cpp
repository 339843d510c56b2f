// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests for nn/modeling/box_coder: stated deltas, encode/decode round trip, the exp clamp, torchvision parity.

#include <cmath>

#include "nn/modeling/box_coder.h"
#include "ops_test_inputs.h"
#include "tv_ops_fixture.h"

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

using namespace detlab;

using detlab::BoxCoder;
using detlab::test::max_abs_diff;

TEST_CASE("BoxCoder encodes stated deltas", "[nn][box_coder]") {
  const BoxCoder coder(detlab::kRoiHeadBoxWeights);
  const at::Tensor proposal = at::tensor({0.f, 0.f, 10.f, 20.f}).view({1, 4});  // centre (5, 10), size 10 x 20
  const at::Tensor target = at::tensor({2.f, 4.f, 22.f, 24.f}).view({1, 4});    // centre (12, 14), size 20 x 20
  const at::Tensor d = coder.encode_single(target, proposal);
  CHECK(d[0][0].item<float>() == Approx(10 * 7.0 / 10));
  CHECK(d[0][1].item<float>() == Approx(10 * 4.0 / 20));
  CHECK(d[0][2].item<float>() == Approx(5 * std::log(2.0)));
  CHECK(d[0][3].item<float>() == Approx(0.0).margin(1e-7));
  CHECK(max_abs_diff(coder.decode_single(d, proposal), target) <= 1e-5);
}

TEST_CASE("BoxCoder decode inverts encode and clamps large log-scales", "[nn][box_coder]") {
  auto gen = detlab::test::seeded(17);
  const at::Tensor proposals = detlab::test::random_boxes(gen, 200, 0, 500, 1, 150);
  const at::Tensor targets = detlab::test::random_boxes(gen, 200, 0, 500, 1, 150);
  for (const auto& w : {detlab::kRpnBoxWeights, detlab::kRoiHeadBoxWeights}) {
    const BoxCoder coder(w);
    CHECK(max_abs_diff(coder.decode_single(coder.encode_single(targets, proposals), proposals), targets) <= 1e-3);
  }
  const BoxCoder coder;  // weights (1, 1, 1, 1)
  const at::Tensor box = at::tensor({0.f, 0.f, 16.f, 16.f}).view({1, 4});
  const at::Tensor huge = at::tensor({0.f, 0.f, 50.f, 50.f}).view({1, 4});
  const at::Tensor out = coder.decode_single(huge, box);
  CHECK(out[0][2].item<float>() - out[0][0].item<float>() == Approx(1000.0));  // 16 * exp(log(1000 / 16))
  // Several predictions per box (class-specific regression): K x 4A in, K x A x 4 out via decode().
  const at::Tensor codes = at::zeros({2, 8});
  const at::Tensor two = coder.decode(codes, {box, box});
  CHECK(two.sizes() == at::IntArrayRef({2, 2, 4}));
  CHECK(two[1][1].equal(box[0]));
}

TEST_CASE("BoxCoder matches torchvision's det_utils.BoxCoder", "[nn][box_coder][torchvision]") {
  const auto fx = detlab::test::TvOpsFixture::load("box_coder");
  if (!fx) return;
  for (int64_t i = 0; i < fx->cases(); ++i) {
    const std::string k = std::to_string(i) + ".";
    const at::Tensor w = fx->tensor(k + "weights");
    const BoxCoder coder({w[0].item<double>(), w[1].item<double>(), w[2].item<double>(), w[3].item<double>()});
    const std::vector<at::Tensor> proposals = {fx->tensor(k + "proposals0"), fx->tensor(k + "proposals1")};
    const std::vector<at::Tensor> gts = {fx->tensor(k + "gts0"), fx->tensor(k + "gts1")};
    const auto enc = coder.encode(gts, proposals);
    REQUIRE(enc.size() == 2);
    INFO("case " << i);
    CHECK(max_abs_diff(enc[0], fx->tensor(k + "encoded0")) == 0.0);
    CHECK(max_abs_diff(enc[1], fx->tensor(k + "encoded1")) == 0.0);
    CHECK(max_abs_diff(coder.decode(fx->tensor(k + "codes"), proposals), fx->tensor(k + "decoded")) == 0.0);
    CHECK(max_abs_diff(coder.decode_single(fx->tensor(k + "codes"), at::cat(proposals)),
                       fx->tensor(k + "decoded_single")) == 0.0);
  }
}
