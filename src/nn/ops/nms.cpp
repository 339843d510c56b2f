// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Greedy NMS, device-generic path (IoU masks by ATen ops in row blocks, greedy pass on the host), and the
// argument checks shared with the CPU kernel.
//
// This is the CUDA kernel's structure (torchvision computes an IoU bit-mask on the GPU and reduces it on the host)
// expressed in ATen ops, so it runs on any device; on the CPU it is the naive O(K^2) reference for the kernel.
#include "nn/ops/nms.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace detlab {
namespace {

// IoU mask elements computed per block of rows (bytes of host memory per block); 16M = 16 MB.
constexpr int64_t kMaskBudget = int64_t{1} << 24;

at::Tensor nms_generic_impl(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs,
                            double iou_threshold) {
  check_nms_args(boxes, scores, idxs);
  const int64_t n = boxes.size(0);
  if (n == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  const at::Tensor order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  const at::Tensor b = boxes.index_select(0, order);
  const at::Tensor x1 = b.select(1, 0), y1 = b.select(1, 1), x2 = b.select(1, 2), y2 = b.select(1, 3);
  const at::Tensor area = (x2 - x1) * (y2 - y1);
  const at::Tensor cls = idxs.defined() ? idxs.index_select(0, order) : at::Tensor();
  const double thr = nms_threshold_in(boxes.scalar_type(), iou_threshold);

  std::vector<uint8_t> suppressed(static_cast<size_t>(n), 0);
  std::vector<int64_t> kept;
  const int64_t block = std::max<int64_t>(1, kMaskBudget / n);
  for (int64_t r0 = 0; r0 < n; r0 += block) {
    const int64_t r1 = std::min(n, r0 + block);
    auto rows = [&](const at::Tensor& t) { return t.slice(0, r0, r1).unsqueeze(1); };
    auto cols = [&](const at::Tensor& t) { return t.unsqueeze(0); };
    const at::Tensor xx1 = at::maximum(rows(x1), cols(x1)), yy1 = at::maximum(rows(y1), cols(y1));
    const at::Tensor xx2 = at::minimum(rows(x2), cols(x2)), yy2 = at::minimum(rows(y2), cols(y2));
    const at::Tensor inter = (xx2 - xx1).clamp_min(0) * (yy2 - yy1).clamp_min(0);
    at::Tensor mask = inter / ((rows(area) + cols(area)) - inter) > thr;  // torchvision's operand order
    if (cls.defined()) mask = mask & (rows(cls) == cols(cls));
    const at::Tensor host = mask.to(at::kCPU).contiguous();
    const bool* m = host.data_ptr<bool>();
    for (int64_t i = r0; i < r1; ++i) {
      if (suppressed[static_cast<size_t>(i)]) continue;
      kept.push_back(i);
      const bool* row = m + (i - r0) * n;
      for (int64_t j = i + 1; j < n; ++j)
        if (row[j]) suppressed[static_cast<size_t>(j)] = 1;
    }
  }
  const at::Tensor ranks = at::tensor(kept, at::TensorOptions().dtype(at::kLong)).to(boxes.device());
  return order.index_select(0, ranks);
}

}  // namespace

double nms_threshold_in(at::ScalarType dtype, double threshold) {
  if (dtype != at::kFloat || std::isnan(threshold)) return threshold;
  float f = static_cast<float>(threshold);
  if (static_cast<double>(f) > threshold) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return static_cast<double>(f);
}

void check_nms_args(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "nms: boxes must be K x 4, got ", boxes.sizes());
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), "nms: scores must be K = ", boxes.size(0), ", got ",
              scores.sizes());
  TORCH_CHECK(boxes.scalar_type() == scores.scalar_type(), "nms: boxes and scores must have the same dtype, got ",
              boxes.scalar_type(), " and ", scores.scalar_type());
  TORCH_CHECK(boxes.device() == scores.device(), "nms: boxes and scores must be on the same device");
  if (idxs.defined()) {
    TORCH_CHECK(idxs.dim() == 1 && idxs.size(0) == boxes.size(0), "batched_nms: idxs must be K = ", boxes.size(0),
                ", got ", idxs.sizes());
    TORCH_CHECK(!at::isFloatingType(idxs.scalar_type()) && idxs.scalar_type() != at::kBool,
                "batched_nms: idxs must be integers, got ", idxs.scalar_type());
    TORCH_CHECK(idxs.device() == boxes.device(), "batched_nms: idxs must be on the boxes' device");
  }
}

at::Tensor nms_generic(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  return nms_generic_impl(boxes, scores, at::Tensor(), iou_threshold);
}

at::Tensor batched_nms_generic(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs,
                               double iou_threshold) {
  TORCH_CHECK(idxs.defined(), "batched_nms: idxs must be defined");
  return nms_generic_impl(boxes, scores, idxs, iou_threshold);
}

}  // namespace detlab
