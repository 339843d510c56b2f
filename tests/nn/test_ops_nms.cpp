// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests for nn/ops/nms: stated results, CPU kernel vs generic path vs an O(K^2) reference written here, the
// threshold's float/double boundary, batched (per-category) NMS, torchvision parity, CUDA vs CPU ([.gpu]).
#include <torch/cuda.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "nn/ops/nms.h"
#include "ops_test_inputs.h"
#include "tv_ops_fixture.h"

// Catch2 after the torch headers: c10 defines a glog-style CHECK(cond) that must not replace Catch2's.
#include <catch2/catch.hpp>

using namespace detlab;

using detlab::batched_nms;
using detlab::batched_nms_cpu;
using detlab::batched_nms_generic;
using detlab::nms;
using detlab::nms_cpu;
using detlab::nms_generic;

namespace {

std::vector<int64_t> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU).to(at::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

/// The textbook loop (torchvision's nms_kernel.cpp structure): suppressed flags, IoU in T, compared in double;
/// same_class restricts suppression to equal categories.
template <typename T>
std::vector<int64_t> reference_nms(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs,
                                   double thr) {
  const int64_t n = boxes.size(0);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const auto s = scores.accessor<T, 1>();
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s[a] > s[b]; });
  const auto b = boxes.accessor<T, 2>();
  const std::vector<int64_t> cls = idxs.defined() ? to_vector(idxs) : std::vector<int64_t>(static_cast<size_t>(n), 0);
  std::vector<bool> suppressed(static_cast<size_t>(n), false);
  std::vector<int64_t> keep;
  for (int64_t oi = 0; oi < n; ++oi) {
    const int64_t i = order[oi];
    if (suppressed[i]) continue;
    keep.push_back(i);
    const T ai = (b[i][2] - b[i][0]) * (b[i][3] - b[i][1]);
    for (int64_t oj = oi + 1; oj < n; ++oj) {
      const int64_t j = order[oj];
      if (suppressed[j]) continue;
      if (cls[i] != cls[j]) continue;
      const T aj = (b[j][2] - b[j][0]) * (b[j][3] - b[j][1]);
      const T w = std::max(T(0), std::min(b[i][2], b[j][2]) - std::max(b[i][0], b[j][0]));
      const T h = std::max(T(0), std::min(b[i][3], b[j][3]) - std::max(b[i][1], b[j][1]));
      const T inter = w * h;
      const T ovr = inter / (ai + aj - inter);
      if (static_cast<double>(ovr) > thr) suppressed[j] = true;
    }
  }
  return keep;
}

at::Tensor clustered_boxes(at::Generator& gen, int64_t n, at::ScalarType dtype) {
  // Centres in a 200 x 200 field, sizes 4..64: dense enough that every threshold suppresses something.
  const auto d = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor ctr = at::rand({n, 2}, gen, d) * 200;
  const at::Tensor size = at::rand({n, 2}, gen, d) * 60 + 4;
  return at::cat({ctr - size / 2, ctr + size / 2}, 1).to(dtype);
}

}  // namespace

TEST_CASE("nms keeps the higher-scoring box of an overlapping pair", "[nn][nms]") {
  const at::Tensor boxes =
      at::tensor({0.f, 0.f, 10.f, 10.f, 1.f, 1.f, 11.f, 11.f, 50.f, 50.f, 60.f, 60.f}).view({3, 4});
  const at::Tensor scores = at::tensor({0.8f, 0.9f, 0.7f});
  CHECK(to_vector(nms(boxes, scores, 0.5)) == std::vector<int64_t>{1, 2});
  CHECK(to_vector(nms_generic(boxes, scores, 0.5)) == std::vector<int64_t>{1, 2});
  // IoU(0, 1) = 81 / 119 = 0.68: a threshold above it keeps all three, in score order.
  CHECK(to_vector(nms(boxes, scores, 0.7)) == std::vector<int64_t>{1, 0, 2});
  // Same boxes in different categories never suppress each other.
  const at::Tensor idxs = at::tensor({0, 1, 0});
  CHECK(to_vector(batched_nms(boxes, scores, idxs, 0.5)) == std::vector<int64_t>{1, 0, 2});
  CHECK(nms(at::zeros({0, 4}), at::zeros({0}), 0.5).numel() == 0);
  CHECK(batched_nms(at::zeros({0, 4}), at::zeros({0}), at::zeros({0}, at::kLong), 0.5).numel() == 0);
}

TEST_CASE("nms compares the IoU with the threshold in double, as torchvision", "[nn][nms]") {
  // Boxes [0, 0, 10, 10] and [0, 0, 10, h]: IoU = h / 10 in float. With h = 3 the float IoU is 0.3f, which is
  // greater than the double 0.3, so the second box is suppressed at threshold 0.3 (a float comparison would not).
  const at::Tensor boxes = at::tensor({0.f, 0.f, 10.f, 10.f, 0.f, 0.f, 10.f, 3.f}).view({2, 4});
  const at::Tensor scores = at::tensor({0.9f, 0.8f});
  REQUIRE(static_cast<double>(3.f / 10.f) > 0.3);
  CHECK(to_vector(nms_cpu(boxes, scores, 0.3)) == std::vector<int64_t>{0});
  CHECK(to_vector(nms_generic(boxes, scores, 0.3)) == std::vector<int64_t>{0});
  CHECK(reference_nms<float>(boxes, scores, at::Tensor(), 0.3) == std::vector<int64_t>{0});
  // h = 7: 0.7f < 0.7 in double, so nothing is suppressed at 0.7.
  const at::Tensor boxes7 = at::tensor({0.f, 0.f, 10.f, 10.f, 0.f, 0.f, 10.f, 7.f}).view({2, 4});
  REQUIRE(static_cast<double>(7.f / 10.f) < 0.7);
  CHECK(to_vector(nms_cpu(boxes7, scores, 0.7)) == std::vector<int64_t>{0, 1});
  CHECK(to_vector(nms_generic(boxes7, scores, 0.7)) == std::vector<int64_t>{0, 1});
  CHECK(detlab::nms_threshold_in(at::kFloat, 0.3) < 0.3);
  CHECK(detlab::nms_threshold_in(at::kDouble, 0.3) == 0.3);
}

TEST_CASE("nms CPU kernel and generic path equal the reference loop", "[nn][nms]") {
  auto gen = detlab::test::seeded(7767517);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    for (int64_t n : {1, 2, 57, 800, 2500}) {
      const at::Tensor boxes = clustered_boxes(gen, n, dtype);
      at::Tensor scores = at::rand({n}, gen, at::TensorOptions().dtype(dtype));
      if (n > 40) scores.slice(0, 20, 40).fill_(0.5);  // ties: stable order, lower index first
      // The generic path is O(n^2) in memory traffic; the largest size runs one threshold to keep the test fast.
      const std::vector<double> thresholds =
          n > 1000 ? std::vector<double>{0.5} : std::vector<double>{0.0, 0.3, 0.5, 0.7, 1.0};
      for (double thr : thresholds) {
        INFO("n " << n << " threshold " << thr << " dtype " << dtype);
        const std::vector<int64_t> ref = dtype == at::kFloat ? reference_nms<float>(boxes, scores, {}, thr)
                                                             : reference_nms<double>(boxes, scores, {}, thr);
        CHECK(to_vector(nms_cpu(boxes, scores, thr)) == ref);
        CHECK(to_vector(nms_generic(boxes, scores, thr)) == ref);
      }
    }
  }
}

TEST_CASE("batched_nms CPU kernel and generic path equal per-category reference NMS", "[nn][nms]") {
  auto gen = detlab::test::seeded(99);
  for (int64_t n : {1, 300, 2500}) {
    const at::Tensor boxes = clustered_boxes(gen, n, at::kFloat);
    const at::Tensor scores = at::rand({n}, gen);
    const at::Tensor idxs = at::randint(-3, 9, {n}, gen, at::TensorOptions().dtype(at::kLong));
    for (double thr : {0.3, 0.5}) {
      const std::vector<int64_t> ref = reference_nms<float>(boxes, scores, idxs, thr);
      INFO("n " << n << " threshold " << thr);
      CHECK(to_vector(batched_nms_cpu(boxes, scores, idxs, thr)) == ref);
      CHECK(to_vector(batched_nms_generic(boxes, scores, idxs, thr)) == ref);
      CHECK(to_vector(batched_nms_cpu(boxes, scores, idxs.to(at::kInt), thr)) == ref);
    }
  }
}

TEST_CASE("nms and batched_nms match torchvision", "[nn][nms][torchvision]") {
  const auto fx = detlab::test::TvOpsFixture::load("nms");
  if (!fx) return;
  for (int64_t i = 0; i < fx->cases(); ++i) {
    const std::string k = std::to_string(i) + ".";
    const at::Tensor boxes = fx->tensor(k + "boxes"), scores = fx->tensor(k + "scores");
    const double thr = fx->real(k + "iou_threshold");
    INFO("nms case " << i << " threshold " << thr);
    CHECK(nms_cpu(boxes, scores, thr).equal(fx->tensor(k + "keep")));
    CHECK(nms_generic(boxes, scores, thr).equal(fx->tensor(k + "keep")));
  }
  const auto bx = detlab::test::TvOpsFixture::load("batched_nms");
  REQUIRE(bx);
  for (int64_t i = 0; i < bx->cases(); ++i) {
    const std::string k = std::to_string(i) + ".";
    const at::Tensor boxes = bx->tensor(k + "boxes"), scores = bx->tensor(k + "scores"), idxs = bx->tensor(k + "idxs");
    const double thr = bx->real(k + "iou_threshold");
    INFO("batched_nms case " << i);
    CHECK(batched_nms_cpu(boxes, scores, idxs, thr).equal(bx->tensor(k + "keep")));
    CHECK(batched_nms_generic(boxes, scores, idxs, thr).equal(bx->tensor(k + "keep")));
  }
}

TEST_CASE("nms rejects malformed arguments", "[nn][nms]") {
  CHECK_THROWS_AS(nms(at::zeros({3, 5}), at::zeros({3}), 0.5), c10::Error);
  CHECK_THROWS_AS(nms(at::zeros({3, 4}), at::zeros({2}), 0.5), c10::Error);
  CHECK_THROWS_AS(nms(at::zeros({3, 4}), at::zeros({3}, at::kDouble), 0.5), c10::Error);
  CHECK_THROWS_AS(batched_nms(at::zeros({3, 4}), at::zeros({3}), at::zeros({3}), 0.5), c10::Error);  // float idxs
}

TEST_CASE("nms on CUDA equals the CPU kernel", "[nn][nms][.gpu]") {
  // Asked for ([.gpu] runs only by name or tag): without CUDA that is a failure, not a pass.
  REQUIRE(torch::cuda::is_available());
  auto gen = detlab::test::seeded(5);
  const at::Tensor boxes = clustered_boxes(gen, 5000, at::kFloat);
  const at::Tensor scores = at::rand({5000}, gen);
  const at::Tensor idxs = at::randint(0, 20, {5000}, gen, at::TensorOptions().dtype(at::kLong));
  for (double thr : {0.3, 0.5, 0.7}) {
    const at::Tensor gpu = nms(boxes.to(at::kCUDA), scores.to(at::kCUDA), thr);
    CHECK(gpu.device().is_cuda());
    CHECK(to_vector(gpu) == to_vector(nms(boxes, scores, thr)));
    CHECK(to_vector(batched_nms(boxes.to(at::kCUDA), scores.to(at::kCUDA), idxs.to(at::kCUDA), thr)) ==
          to_vector(batched_nms(boxes, scores, idxs, thr)));
  }
}
