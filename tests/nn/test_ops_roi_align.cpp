// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests for nn/ops/roi_align: stated values, CPU kernel vs generic path (forward, backward, both layouts),
// finite differences, torchvision parity, argument errors, CUDA vs CPU ([.gpu]).
#include <torch/cuda.h>

#include "nn/ops/roi_align.h"
#include "ops_test_inputs.h"
#include "tv_ops_fixture.h"

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

using namespace detlab;

using detlab::roi_align;
using detlab::roi_align_cpu;
using detlab::roi_align_generic;
using detlab::RoiAlignOptions;
using detlab::RoiLayout;
using detlab::test::max_abs_diff;

namespace {

RoiAlignOptions options(int64_t out_h, int64_t out_w, double scale, int64_t sampling, bool aligned) {
  RoiAlignOptions o;
  o.output_height = out_h;
  o.output_width = out_w;
  o.spatial_scale = scale;
  o.sampling_ratio = sampling;
  o.aligned = aligned;
  return o;
}

std::vector<RoiAlignOptions> option_grid() {
  std::vector<RoiAlignOptions> grid;
  for (bool aligned : {true, false})
    for (int64_t sampling : {-1, 0, 1, 2, 3})
      for (double scale : {1.0, 0.25}) grid.push_back(options(sampling == 1 ? 3 : 7, 5, scale, sampling, aligned));
  return grid;
}

}  // namespace

TEST_CASE("roi_align of a linear ramp is the ramp at the bin centres", "[nn][roi_align]") {
  // Bilinear interpolation reproduces a linear function exactly, so each bin's average of samples equals the
  // function at the mean sample position, which is the bin centre (samples stay inside the map here).
  const int64_t h = 8, w = 10;
  const at::Tensor ys = at::arange(h, at::kFloat).view({h, 1}), xs = at::arange(w, at::kFloat).view({1, w});
  const at::Tensor ramp = (2 * ys + 3 * xs).view({1, 1, h, w});
  const at::Tensor rois = at::tensor({0.f, 2.f, 1.f, 8.f, 5.f}).view({1, 5});  // x 2..8, y 1..5
  for (auto layout : {RoiLayout::kChannelsFirst, RoiLayout::kChannelsLast}) {
    const at::Tensor out = roi_align_cpu(ramp, rois, options(2, 3, 1.0, 2, /*aligned=*/true), layout);
    // aligned: continuous coordinates shift by -0.5; bins are 2 px (x) by 2 px (y).
    const float expected[2][3] = {{2 * 1.5f + 3 * 2.5f, 2 * 1.5f + 3 * 4.5f, 2 * 1.5f + 3 * 6.5f},
                                  {2 * 3.5f + 3 * 2.5f, 2 * 3.5f + 3 * 4.5f, 2 * 3.5f + 3 * 6.5f}};
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) CHECK(out[0][0][i][j].item<float>() == Approx(expected[i][j]).epsilon(1e-6));
  }
  // Legacy (aligned = false): no half-pixel shift.
  const at::Tensor legacy = roi_align(ramp, rois, options(2, 3, 1.0, 2, /*aligned=*/false));
  CHECK(legacy[0][0][0][0].item<float>() == Approx(2 * 2.f + 3 * 3.f));
}

TEST_CASE("roi_align CPU kernel equals the generic path (both layouts, float and double)", "[nn][roi_align]") {
  auto gen = detlab::test::seeded(7767517);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const at::Tensor input = at::randn({2, 5, 11, 14}, gen, at::TensorOptions().dtype(dtype));
    const at::Tensor rois = detlab::test::random_rois(gen, 40, 2, 44, 56, dtype);  // image 4x the map
    for (const auto& base : option_grid()) {
      const RoiAlignOptions o = base;
      const at::Tensor ref = roi_align_generic(input, rois, o);
      for (auto layout : {RoiLayout::kAuto, RoiLayout::kChannelsFirst, RoiLayout::kChannelsLast}) {
        INFO("aligned " << o.aligned << " sampling " << o.sampling_ratio << " scale " << o.spatial_scale << " layout "
                        << static_cast<int>(layout) << " dtype " << dtype);
        const at::Tensor out = roi_align_cpu(input, rois, o, layout);
        REQUIRE(out.sizes() == ref.sizes());
        CHECK(max_abs_diff(out, ref) <= 1e-5);
      }
    }
  }
}

TEST_CASE("roi_align channels-last input and empty RoI sets", "[nn][roi_align]") {
  auto gen = detlab::test::seeded(11);
  const at::Tensor input = at::randn({1, 6, 9, 9}, gen);
  const at::Tensor rois = detlab::test::random_rois(gen, 12, 1, 36, 36);
  const RoiAlignOptions o = options(4, 4, 0.25, 2, true);
  const at::Tensor nhwc = input.contiguous(at::MemoryFormat::ChannelsLast);
  CHECK(max_abs_diff(roi_align(nhwc, rois, o), roi_align_generic(input, rois, o)) <= 1e-5);
  const at::Tensor none = at::zeros({0, 5});
  CHECK(roi_align(input, none, o).sizes() == at::IntArrayRef({0, 6, 4, 4}));
  CHECK(roi_align_generic(input, none, o).sizes() == at::IntArrayRef({0, 6, 4, 4}));
}

TEST_CASE("roi_align backward: CPU kernel equals the generic path's autograd", "[nn][roi_align]") {
  auto gen = detlab::test::seeded(3);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const at::Tensor input = at::randn({2, 4, 10, 12}, gen, at::TensorOptions().dtype(dtype));
    const at::Tensor rois = detlab::test::random_rois(gen, 30, 2, 40, 48, dtype);
    for (const auto& o : option_grid()) {
      const at::Tensor go = at::randn({30, 4, o.output_height, o.output_width}, gen, at::TensorOptions().dtype(dtype));
      const at::Tensor ref_x = input.clone().requires_grad_(true);
      roi_align_generic(ref_x, rois, o).backward(go);
      for (auto layout : {RoiLayout::kChannelsFirst, RoiLayout::kChannelsLast}) {
        const at::Tensor x = input.clone().requires_grad_(true);
        roi_align_cpu(x, rois, o, layout).backward(go);
        INFO("aligned " << o.aligned << " sampling " << o.sampling_ratio << " scale " << o.spatial_scale << " layout "
                        << static_cast<int>(layout) << " dtype " << dtype);
        CHECK(max_abs_diff(x.grad(), ref_x.grad()) <= 1e-5);
        CHECK(x.grad().abs().sum().item<double>() > 0);  // the check is not vacuous
      }
    }
  }
}

TEST_CASE("roi_align backward matches finite differences", "[nn][roi_align]") {
  // roi_align is linear in the input, so a central difference along any direction is exact up to rounding.
  auto gen = detlab::test::seeded(5);
  const auto dbl = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor input = at::randn({1, 3, 7, 9}, gen, dbl).requires_grad_(true);
  const at::Tensor rois = detlab::test::random_rois(gen, 8, 1, 28, 36, at::kDouble);
  for (bool aligned : {true, false}) {
    const RoiAlignOptions o = options(3, 4, 0.25, -1, aligned);
    for (auto layout : {RoiLayout::kChannelsFirst, RoiLayout::kChannelsLast}) {
      const at::Tensor go = at::randn({8, 3, 3, 4}, gen, dbl);
      if (input.grad().defined()) input.grad().zero_();
      (roi_align_cpu(input, rois, o, layout) * go).sum().backward();
      const at::Tensor grad = input.grad().clone();
      for (int trial = 0; trial < 5; ++trial) {
        const at::Tensor v = at::randn(input.sizes(), gen, dbl);
        const double eps = 1e-3;
        const at::Tensor x = input.detach();
        const double plus = (roi_align_cpu(x + eps * v, rois, o, layout) * go).sum().item<double>();
        const double minus = (roi_align_cpu(x - eps * v, rois, o, layout) * go).sum().item<double>();
        CHECK((plus - minus) / (2 * eps) == Approx((grad * v).sum().item<double>()).epsilon(1e-7));
      }
    }
  }
}

TEST_CASE("roi_align matches torchvision (outputs and input gradients)", "[nn][roi_align][torchvision]") {
  const auto fx = detlab::test::TvOpsFixture::load("roi_align");
  if (!fx) return;
  REQUIRE(fx->cases() >= 6);
  for (int64_t i = 0; i < fx->cases(); ++i) {
    const std::string k = std::to_string(i) + ".";
    const RoiAlignOptions o =
        options(fx->integer(k + "output_height"), fx->integer(k + "output_width"), fx->real(k + "spatial_scale"),
                fx->integer(k + "sampling_ratio"), fx->flag(k + "aligned"));
    const at::Tensor rois = fx->tensor(k + "rois");
    INFO("case " << i << " aligned " << o.aligned << " sampling " << o.sampling_ratio);
    for (auto layout : {RoiLayout::kChannelsFirst, RoiLayout::kChannelsLast}) {
      const at::Tensor x = fx->tensor(k + "input").clone().requires_grad_(true);
      const at::Tensor y = roi_align_cpu(x, rois, o, layout);
      CHECK(max_abs_diff(y, fx->tensor(k + "output")) <= 1e-5);
      y.backward(fx->tensor(k + "grad_output"));
      CHECK(max_abs_diff(x.grad(), fx->tensor(k + "grad_input")) <= 1e-5);
    }
    const at::Tensor x = fx->tensor(k + "input").clone().requires_grad_(true);
    const at::Tensor y = roi_align_generic(x, rois, o);
    CHECK(max_abs_diff(y, fx->tensor(k + "output")) <= 1e-5);
    y.backward(fx->tensor(k + "grad_output"));
    CHECK(max_abs_diff(x.grad(), fx->tensor(k + "grad_input")) <= 1e-5);
  }
}

TEST_CASE("roi_align rejects malformed arguments", "[nn][roi_align]") {
  const at::Tensor input = at::zeros({1, 2, 5, 5});
  const RoiAlignOptions o;
  CHECK_THROWS_AS(roi_align(input, at::zeros({3, 4}), o), c10::Error);                  // not K x 5
  CHECK_THROWS_AS(roi_align(input.view({2, 5, 5}), at::zeros({3, 5}), o), c10::Error);  // not 4-D
  CHECK_THROWS_AS(roi_align(input, at::zeros({3, 5}, at::kDouble), o), c10::Error);     // dtype mismatch
  CHECK_THROWS_AS(roi_align(input, at::tensor({1.f, 0.f, 0.f, 2.f, 2.f}).view({1, 5}), o), c10::Error);  // batch
  CHECK_THROWS_AS(roi_align(input, at::zeros({3, 5}), options(0, 7, 1, 2, true)), c10::Error);
  CHECK_THROWS_AS(roi_align_generic(input, at::zeros({3, 4}), o), c10::Error);
}

TEST_CASE("roi_align on CUDA equals the CPU kernel", "[nn][roi_align][.gpu]") {
  // Asked for ([.gpu] runs only by name or tag): without CUDA that is a failure, not a pass.
  REQUIRE(torch::cuda::is_available());
  auto gen = detlab::test::seeded(21);
  const at::Tensor input = at::randn({2, 16, 25, 31}, gen);
  const at::Tensor rois = detlab::test::random_rois(gen, 64, 2, 400, 496);
  for (const auto& o : option_grid()) {
    const RoiAlignOptions scaled =
        options(o.output_height, o.output_width, o.spatial_scale / 16, o.sampling_ratio, o.aligned);
    const at::Tensor cpu_x = input.clone().requires_grad_(true);
    const at::Tensor gpu_x = input.to(at::kCUDA).requires_grad_(true);
    const at::Tensor cpu_y = roi_align(cpu_x, rois, scaled);
    const at::Tensor gpu_y = roi_align(gpu_x, rois.to(at::kCUDA), scaled);
    CHECK(gpu_y.device().is_cuda());
    CHECK(max_abs_diff(cpu_y, gpu_y) <= 1e-5);
    const at::Tensor go = at::randn(cpu_y.sizes(), gen);
    cpu_y.backward(go);
    gpu_y.backward(go.to(at::kCUDA));
    CHECK(max_abs_diff(cpu_x.grad(), gpu_x.grad()) <= 1e-4);
  }
}
