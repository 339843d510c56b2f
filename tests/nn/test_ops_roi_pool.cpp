// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests for nn/ops/roi_pool: stated values, CPU kernel vs generic path (forward, backward), torchvision parity
// (values, arg-max, gradients), CUDA vs CPU ([.gpu]).
#include <torch/cuda.h>

#include "nn/ops/roi_pool.h"
#include "ops_test_inputs.h"
#include "tv_ops_fixture.h"

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

using namespace detlab;

using detlab::roi_pool;
using detlab::roi_pool_cpu;
using detlab::roi_pool_forward_cpu;
using detlab::roi_pool_generic;
using detlab::RoiLayout;
using detlab::RoiPoolOptions;
using detlab::test::max_abs_diff;

namespace {

RoiPoolOptions options(int64_t out_h, int64_t out_w, double scale) {
  RoiPoolOptions o;
  o.output_height = out_h;
  o.output_width = out_w;
  o.spatial_scale = scale;
  return o;
}

}  // namespace

TEST_CASE("roi_pool takes the maximum of each quantised bin", "[nn][roi_pool]") {
  // 4 x 4 map with values 0..15; the RoI covers pixels 0..3 x 0..3 (inclusive corners, Fast R-CNN's +1).
  const at::Tensor input = at::arange(16, at::kFloat).view({1, 1, 4, 4});
  const at::Tensor rois = at::tensor({0.f, 0.f, 0.f, 3.f, 3.f}).view({1, 5});
  for (auto layout : {RoiLayout::kChannelsFirst, RoiLayout::kChannelsLast}) {
    const auto [out, argmax] = roi_pool_forward_cpu(input.expand({1, 2, 4, 4}), rois, options(2, 2, 1.0), layout);
    CHECK(out[0][1].flatten().equal(at::tensor({5.f, 7.f, 13.f, 15.f})));
    CHECK(argmax[0][1].flatten().equal(at::tensor({5, 7, 13, 15}, at::kInt)));
  }
  // A RoI entirely outside the map gives empty bins: output 0, arg-max -1.
  const at::Tensor outside = at::tensor({0.f, -20.f, -20.f, -10.f, -10.f}).view({1, 5});
  const auto [zero, none] = roi_pool_forward_cpu(input, outside, options(2, 2, 1.0));
  CHECK(zero.abs().sum().item<float>() == 0.f);
  CHECK((none == -1).all().item<bool>());
  CHECK(roi_pool_generic(input, outside, options(2, 2, 1.0)).abs().sum().item<float>() == 0.f);
}

TEST_CASE("roi_pool CPU kernel equals the generic path (forward and backward)", "[nn][roi_pool]") {
  auto gen = detlab::test::seeded(7767517);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const at::Tensor input = at::randn({2, 5, 11, 14}, gen, at::TensorOptions().dtype(dtype));
    const at::Tensor rois = detlab::test::random_rois(gen, 40, 2, 44, 56, dtype);
    for (double scale : {1.0, 0.25, 0.5}) {
      for (auto [oh, ow] : {std::pair<int64_t, int64_t>{7, 7}, {3, 5}, {1, 1}}) {
        const RoiPoolOptions o = options(oh, ow, scale);
        const at::Tensor x1 = input.clone().requires_grad_(true), x2 = input.clone().requires_grad_(true);
        const at::Tensor y1 = roi_pool_cpu(x1, rois, o), y2 = roi_pool_generic(x2, rois, o);
        INFO("scale " << scale << " output " << oh << " x " << ow << " dtype " << dtype);
        CHECK(max_abs_diff(y1, y2) == 0.0);  // a maximum is exact
        const auto [first, first_arg] = roi_pool_forward_cpu(input, rois, o, RoiLayout::kChannelsFirst);
        const auto [last, last_arg] = roi_pool_forward_cpu(input, rois, o, RoiLayout::kChannelsLast);
        CHECK(max_abs_diff(first, y2) == 0.0);
        CHECK(max_abs_diff(last, y2) == 0.0);
        CHECK(first_arg.equal(last_arg));
        const at::Tensor go = at::randn(y1.sizes(), gen, at::TensorOptions().dtype(dtype));
        y1.backward(go);
        y2.backward(go);
        CHECK(max_abs_diff(x1.grad(), x2.grad()) <= 1e-5);
        CHECK(x1.grad().abs().sum().item<double>() > 0);
      }
    }
  }
}

TEST_CASE("roi_pool matches torchvision (values, arg-max, gradients)", "[nn][roi_pool][torchvision]") {
  const auto fx = detlab::test::TvOpsFixture::load("roi_pool");
  if (!fx) return;
  REQUIRE(fx->cases() >= 3);
  for (int64_t i = 0; i < fx->cases(); ++i) {
    const std::string k = std::to_string(i) + ".";
    const RoiPoolOptions o =
        options(fx->integer(k + "output_height"), fx->integer(k + "output_width"), fx->real(k + "spatial_scale"));
    const at::Tensor rois = fx->tensor(k + "rois");
    INFO("case " << i);
    for (auto layout : {RoiLayout::kChannelsFirst, RoiLayout::kChannelsLast}) {
      const auto [out, argmax] = roi_pool_forward_cpu(fx->tensor(k + "input"), rois, o, layout);
      CHECK(max_abs_diff(out, fx->tensor(k + "output")) == 0.0);
      CHECK(argmax.equal(fx->tensor(k + "argmax")));
    }
    for (bool generic : {false, true}) {
      const at::Tensor x = fx->tensor(k + "input").clone().requires_grad_(true);
      const at::Tensor y = generic ? roi_pool_generic(x, rois, o) : roi_pool_cpu(x, rois, o);
      CHECK(max_abs_diff(y, fx->tensor(k + "output")) == 0.0);
      y.backward(fx->tensor(k + "grad_output"));
      CHECK(max_abs_diff(x.grad(), fx->tensor(k + "grad_input")) <= 1e-5);
    }
  }
}

TEST_CASE("roi_pool rejects malformed arguments", "[nn][roi_pool]") {
  const at::Tensor input = at::zeros({1, 2, 5, 5});
  CHECK_THROWS_AS(roi_pool(input, at::zeros({3, 4}), RoiPoolOptions{}), c10::Error);
  CHECK_THROWS_AS(roi_pool(input, at::zeros({3, 5}), options(7, -1, 1.0)), c10::Error);
  CHECK_THROWS_AS(roi_pool(input, at::tensor({2.f, 0.f, 0.f, 2.f, 2.f}).view({1, 5}), RoiPoolOptions{}), c10::Error);
}

TEST_CASE("roi_pool on CUDA equals the CPU kernel", "[nn][roi_pool][.gpu]") {
  // Asked for ([.gpu] runs only by name or tag): without CUDA that is a failure, not a pass.
  REQUIRE(torch::cuda::is_available());
  auto gen = detlab::test::seeded(21);
  const at::Tensor input = at::randn({2, 16, 25, 31}, gen);
  const at::Tensor rois = detlab::test::random_rois(gen, 64, 2, 400, 496);
  const RoiPoolOptions o = options(7, 7, 1.0 / 16);
  const at::Tensor cpu_x = input.clone().requires_grad_(true);
  const at::Tensor gpu_x = input.to(at::kCUDA).requires_grad_(true);
  const at::Tensor cpu_y = roi_pool(cpu_x, rois, o), gpu_y = roi_pool(gpu_x, rois.to(at::kCUDA), o);
  CHECK(max_abs_diff(cpu_y, gpu_y) == 0.0);
  const at::Tensor go = at::randn(cpu_y.sizes(), gen);
  cpu_y.backward(go);
  gpu_y.backward(go.to(at::kCUDA));
  CHECK(max_abs_diff(cpu_x.grad(), gpu_x.grad()) <= 1e-4);
}
