// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests for nn/modeling/matcher: stated assignments (thresholds, low-quality matches with ties), torchvision parity.

#include "nn/modeling/matcher.h"
#include "tv_ops_fixture.h"

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

using namespace detlab;

using detlab::Matcher;
using detlab::MatcherOptions;

namespace {

MatcherOptions options(double high, double low, bool allow) {
  MatcherOptions o;
  o.high_threshold = high;
  o.low_threshold = low;
  o.allow_low_quality_matches = allow;
  return o;
}

}  // namespace

TEST_CASE("Matcher assigns thresholds and low-quality matches as stated", "[nn][matcher]") {
  // 2 ground truths x 5 predictions.
  const at::Tensor q = at::tensor({0.9f, 0.5f, 0.1f, 0.2f, 0.0f,  //
                                   0.1f, 0.6f, 0.2f, 0.2f, 0.7f})
                           .view({2, 5});
  const at::Tensor strict = Matcher(options(0.7, 0.3, false))(q);
  // pred 0 -> gt 0 (0.9); pred 1 best 0.6 in [0.3, 0.7) -> -2; preds 2, 3 best 0.2 < 0.3 -> -1; pred 4 -> gt 1 (0.7).
  CHECK(strict.equal(at::tensor({0, -2, -1, -1, 1}, at::kLong)));
  // gt 1's best quality is 0.7 (pred 4), gt 0's is 0.9: low-quality matching changes nothing here ...
  CHECK(Matcher(options(0.7, 0.3, true))(q).equal(strict));
  // ... but with a higher threshold each gt's best predictions (pred 0 for gt 0, pred 4 for gt 1) are kept.
  CHECK(Matcher(options(0.95, 0.3, false))(q).equal(at::tensor({-2, -2, -1, -1, -2}, at::kLong)));
  CHECK(Matcher(options(0.95, 0.3, true))(q).equal(at::tensor({0, -2, -1, -1, 1}, at::kLong)));
  // Ties: gt 0 reaches its maximum 0.4 at predictions 1 and 2; both are matched back.
  const at::Tensor t = at::tensor({0.1f, 0.4f, 0.4f, 0.0f}).view({1, 4});
  CHECK(Matcher(options(0.5, 0.3, true))(t).equal(at::tensor({-1, 0, 0, -1}, at::kLong)));
}

TEST_CASE("Matcher rejects empty matrices and inverted thresholds", "[nn][matcher]") {
  CHECK_THROWS_AS(Matcher(options(0.3, 0.7, false)), c10::Error);
  CHECK_THROWS_AS(Matcher()(at::zeros({0, 5})), c10::Error);
  CHECK_THROWS_AS(Matcher()(at::zeros({3, 0})), c10::Error);
}

TEST_CASE("Matcher matches torchvision's det_utils.Matcher", "[nn][matcher][torchvision]") {
  const auto fx = detlab::test::TvOpsFixture::load("matcher");
  if (!fx) return;
  for (int64_t i = 0; i < fx->cases(); ++i) {
    const std::string k = std::to_string(i) + ".";
    const Matcher m(options(fx->real(k + "high"), fx->real(k + "low"), fx->flag(k + "allow")));
    INFO("case " << i);
    CHECK(m(fx->tensor(k + "quality")).equal(fx->tensor(k + "matches")));
  }
}
