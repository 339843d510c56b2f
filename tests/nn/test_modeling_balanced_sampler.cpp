// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests for nn/modeling/balanced_sampler: the count contract, determinism per generator, torchvision parity.

#include "nn/modeling/balanced_sampler.h"
#include "ops_test_inputs.h"
#include "tv_ops_fixture.h"

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

using namespace detlab;

using detlab::BalancedPositiveNegativeSampler;
using detlab::BalancedSamplerOptions;

namespace {

BalancedSamplerOptions options(int64_t batch, double fraction) {
  BalancedSamplerOptions o;
  o.batch_size_per_image = batch;
  o.positive_fraction = fraction;
  return o;
}

}  // namespace

TEST_CASE("BalancedPositiveNegativeSampler draws the stated counts from the right pools", "[nn][balanced_sampler]") {
  auto gen = detlab::test::seeded(3);
  const at::Tensor many = at::randint(-1, 3, {5000}, gen, at::TensorOptions().dtype(at::kLong));
  const at::Tensor few_pos = at::tensor({1, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0}, at::kLong);
  const BalancedPositiveNegativeSampler sampler(options(8, 0.25));
  const auto [pos, neg] = sampler({many, few_pos}, detlab::test::seeded(1));
  REQUIRE(pos.size() == 2);
  CHECK(pos[0].sum().item<int64_t>() == 2);  // floor(8 * 0.25)
  CHECK(neg[0].sum().item<int64_t>() == 6);
  CHECK(pos[1].sum().item<int64_t>() == 1);  // only one positive: the rest are negatives
  CHECK(neg[1].sum().item<int64_t>() == 7);
  for (size_t i = 0; i < 2; ++i) {
    const at::Tensor m = i == 0 ? many : few_pos;
    CHECK((m.masked_select(pos[i].to(at::kBool)) >= 1).all().item<bool>());
    CHECK((m.masked_select(neg[i].to(at::kBool)) == 0).all().item<bool>());
    CHECK(pos[i].scalar_type() == at::kByte);
  }
  // The same generator state gives the same draw; a different seed a different one.
  const auto again = sampler({many}, detlab::test::seeded(1));
  CHECK(again.first[0].equal(pos[0]));
  CHECK(again.second[0].equal(neg[0]));
  const auto other = sampler({many}, detlab::test::seeded(2));
  CHECK_FALSE(other.second[0].equal(neg[0]));
  CHECK_THROWS_AS(BalancedPositiveNegativeSampler(options(8, 1.5)), c10::Error);
}

TEST_CASE("BalancedPositiveNegativeSampler draws what torchvision draws from the same seed",
          "[nn][balanced_sampler][torchvision]") {
  const auto fx = detlab::test::TvOpsFixture::load("balanced_sampler");
  if (!fx) return;
  for (int64_t i = 0; i < fx->cases(); ++i) {
    const std::string k = std::to_string(i) + ".";
    std::vector<at::Tensor> matched;
    for (int64_t j = 0; j < fx->integer(k + "images"); ++j)
      matched.push_back(fx->tensor(k + "matched" + std::to_string(j)));
    const BalancedPositiveNegativeSampler sampler(options(fx->integer(k + "batch"), fx->real(k + "fraction")));
    // torchvision draws from the global generator after torch.manual_seed(seed); a fresh CPU generator with the
    // same seed produces the same stream.
    const auto [pos, neg] = sampler(matched, detlab::test::seeded(static_cast<uint64_t>(fx->integer(k + "seed"))));
    for (size_t j = 0; j < matched.size(); ++j) {
      INFO("case " << i << " image " << j);
      CHECK(pos[j].equal(fx->tensor(k + "pos" + std::to_string(j))));
      CHECK(neg[j].equal(fx->tensor(k + "neg" + std::to_string(j))));
    }
  }
}
