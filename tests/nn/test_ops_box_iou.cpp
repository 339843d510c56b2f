// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests for nn/ops/box_iou: stated values, CPU kernel vs generic path, gradients through the generic path,
// torchvision parity (float and integer boxes), CUDA vs CPU ([.gpu]).
#include <torch/cuda.h>

#include "nn/ops/box_iou.h"
#include "ops_test_inputs.h"
#include "tv_ops_fixture.h"

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

using namespace detlab;

using detlab::box_iou;
using detlab::box_iou_cpu;
using detlab::box_iou_generic;
using detlab::generalized_box_iou;
using detlab::generalized_box_iou_cpu;
using detlab::generalized_box_iou_generic;
using detlab::test::max_abs_diff;

TEST_CASE("box_iou and generalized_box_iou of stated pairs", "[nn][box_iou]") {
  const at::Tensor a = at::tensor({0.f, 0.f, 2.f, 2.f}).view({1, 4});
  const at::Tensor b = at::tensor({1.f, 1.f, 3.f, 3.f, 0.f, 0.f, 2.f, 2.f, 4.f, 0.f, 6.f, 2.f}).view({3, 4});
  const at::Tensor iou = box_iou(a, b);
  CHECK(iou[0][0].item<float>() == Approx(1.0 / 7));  // overlap 1, union 7
  CHECK(iou[0][1].item<float>() == 1.f);
  CHECK(iou[0][2].item<float>() == 0.f);
  const at::Tensor giou = generalized_box_iou(a, b);
  CHECK(giou[0][0].item<float>() == Approx(1.0 / 7 - 2.0 / 9));  // enclosing 3 x 3 = 9, union 7
  CHECK(giou[0][1].item<float>() == 1.f);
  CHECK(giou[0][2].item<float>() == Approx(0.0 - (12.0 - 8.0) / 12.0));  // enclosing 6 x 2, union 8
  CHECK(box_iou(a, at::zeros({0, 4})).sizes() == at::IntArrayRef({1, 0}));
}

TEST_CASE("box_iou CPU kernel equals the generic path", "[nn][box_iou]") {
  auto gen = detlab::test::seeded(7767517);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    for (auto [n, m] : {std::pair<int64_t, int64_t>{1, 1}, {37, 211}, {1000, 300}, {5, 70000}}) {
      const at::Tensor b1 = detlab::test::random_boxes(gen, n, -10, 500, 0, 120, dtype);
      at::Tensor b2 = detlab::test::random_boxes(gen, m, -10, 500, 0, 120, dtype);
      b2[0] = b1[0];  // identical pair
      INFO(n << " x " << m << " dtype " << dtype);
      // Same operations in the same order: the results agree to the bit.
      CHECK(box_iou_cpu(b1, b2).equal(box_iou_generic(b1, b2)));
      CHECK(max_abs_diff(generalized_box_iou_cpu(b1, b2), generalized_box_iou_generic(b1, b2)) <= 1e-6);
    }
  }
}

TEST_CASE("box_iou switches to the differentiable path when a gradient is needed", "[nn][box_iou]") {
  CHECK(detlab::box_iou_uses_cpu_kernel(at::zeros({2, 4}), at::zeros({3, 4})));
  const at::Tensor a = at::tensor({0.f, 0.f, 2.f, 2.f}).view({1, 4}).requires_grad_(true);
  const at::Tensor b = at::tensor({1.f, 1.f, 3.f, 3.f}).view({1, 4});
  CHECK_FALSE(detlab::box_iou_uses_cpu_kernel(a, b));
  box_iou(a, b).sum().backward();
  // inter = (x2 - 1)(y2 - 1), union = x2 y2 + 4 - inter; at x2 = y2 = 2: d(iou)/dx2 = (1 * 7 - 1 * 1) / 7^2.
  CHECK(a.grad()[0][2].item<float>() == Approx(6.0 / 49));
  CHECK_FALSE(detlab::box_iou_uses_cpu_kernel(at::zeros({2, 4}, at::kInt), at::zeros({3, 4}, at::kInt)));
}

TEST_CASE("box_iou and generalized_box_iou match torchvision", "[nn][box_iou][torchvision]") {
  const auto fx = detlab::test::TvOpsFixture::load("box_iou");
  if (!fx) return;
  const at::Tensor b1 = fx->tensor("boxes1"), b2 = fx->tensor("boxes2");
  CHECK(max_abs_diff(box_iou(b1, b2), fx->tensor("iou")) == 0.0);
  CHECK(max_abs_diff(box_iou_generic(b1, b2), fx->tensor("iou")) == 0.0);
  CHECK(max_abs_diff(generalized_box_iou(b1, b2), fx->tensor("giou")) <= 1e-6);
  CHECK(max_abs_diff(generalized_box_iou_generic(b1, b2), fx->tensor("giou")) <= 1e-6);
  // Integer boxes stay integer until the division (torchvision's _upcast), giving a float result.
  const at::Tensor i1 = fx->tensor("int_boxes1"), i2 = fx->tensor("int_boxes2");
  const at::Tensor iou = box_iou(i1, i2);
  CHECK(iou.scalar_type() == fx->tensor("int_iou").scalar_type());
  CHECK(max_abs_diff(iou, fx->tensor("int_iou")) <= 1e-6);
  CHECK(max_abs_diff(generalized_box_iou(i1, i2), fx->tensor("int_giou")) <= 1e-6);
}

TEST_CASE("box_iou rejects malformed arguments", "[nn][box_iou]") {
  CHECK_THROWS_AS(box_iou(at::zeros({2, 5}), at::zeros({3, 4})), c10::Error);
  CHECK_THROWS_AS(box_iou_generic(at::zeros({2, 4}), at::zeros({3})), c10::Error);
  CHECK_THROWS_AS(box_iou_cpu(at::zeros({2, 4}), at::zeros({3, 4}, at::kDouble)), c10::Error);
}

TEST_CASE("box_iou on CUDA equals the CPU kernel", "[nn][box_iou][.gpu]") {
  // Asked for ([.gpu] runs only by name or tag): without CUDA that is a failure, not a pass.
  REQUIRE(torch::cuda::is_available());
  auto gen = detlab::test::seeded(5);
  const at::Tensor b1 = detlab::test::random_boxes(gen, 700, 0, 800, 4, 200);
  const at::Tensor b2 = detlab::test::random_boxes(gen, 900, 0, 800, 4, 200);
  CHECK(max_abs_diff(box_iou(b1.to(at::kCUDA), b2.to(at::kCUDA)), box_iou(b1, b2)) <= 1e-6);
  CHECK(max_abs_diff(generalized_box_iou(b1.to(at::kCUDA), b2.to(at::kCUDA)), generalized_box_iou(b1, b2)) <= 1e-6);
}
