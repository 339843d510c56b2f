// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Pairwise IoU / GIoU CPU kernel: one fused pass per output row, no N x M x 2 temporaries.
//
// torchvision builds the matrices from broadcast ops (five N x M x 2 or N x M temporaries); here each output is
// computed once from the two boxes with the same operations in the same order, so the results are identical.
// Rows are split across threads; the inner loop runs over boxes2 held as separate coordinate arrays (vectorises).
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "nn/ops/box_iou.h"
#include "nn/ops/cpu/vectorize.h"

namespace detlab {
namespace {

// Output elements per parallel task: large enough to amortise task start-up (~a few microseconds).
constexpr int64_t kGrainElements = 1 << 15;

/// boxes2 as separate coordinate arrays plus areas.
template <typename T>
struct Columns {
  std::vector<T> x1, y1, x2, y2, area;
};

/// Rows [begin, end) of the matrix: out[i * m + j] for boxes1 (K x 4, row-major) against the columns.
template <typename T, bool kGeneralized>
DETLAB_ALWAYS_INLINE void rows_impl(const T* b1, const Columns<T>& cols, int64_t begin, int64_t end, T* o) {
  const int64_t m = static_cast<int64_t>(cols.x1.size());
  const T* __restrict bx1 = cols.x1.data();
  const T* __restrict by1 = cols.y1.data();
  const T* __restrict bx2 = cols.x2.data();
  const T* __restrict by2 = cols.y2.data();
  const T* __restrict ba = cols.area.data();
  for (int64_t i = begin; i < end; ++i) {
    const T ax1 = b1[4 * i], ay1 = b1[4 * i + 1], ax2 = b1[4 * i + 2], ay2 = b1[4 * i + 3];
    const T area1 = (ax2 - ax1) * (ay2 - ay1);
    T* __restrict row = o + i * m;
    for (int64_t j = 0; j < m; ++j) {
      // torchvision: lt = max(b1, b2), rb = min(b1, b2), wh = (rb - lt).clamp(min=0), union = a1 + a2 - inter.
      const T lx = std::max(ax1, bx1[j]), ly = std::max(ay1, by1[j]);
      const T rx = std::min(ax2, bx2[j]), ry = std::min(ay2, by2[j]);
      const T w = std::max(rx - lx, T(0)), h = std::max(ry - ly, T(0));
      const T inter = w * h;
      const T uni = area1 + ba[j] - inter;
      const T iou = inter / uni;
      if constexpr (kGeneralized) {
        // Smallest enclosing box: lti = min(b1, b2), rbi = max(b1, b2).
        const T cw = std::max(std::max(ax2, bx2[j]) - std::min(ax1, bx1[j]), T(0));
        const T ch = std::max(std::max(ay2, by2[j]) - std::min(ay1, by1[j]), T(0));
        const T areai = cw * ch;
        row[j] = iou - (areai - uni) / areai;
      } else {
        row[j] = iou;
      }
    }
  }
}

DETLAB_TARGET_CLONES void rows(const float* b1, const Columns<float>& cols, int64_t begin, int64_t end, float* o,
                               bool generalized) {
  generalized ? rows_impl<float, true>(b1, cols, begin, end, o) : rows_impl<float, false>(b1, cols, begin, end, o);
}
DETLAB_TARGET_CLONES void rows(const double* b1, const Columns<double>& cols, int64_t begin, int64_t end, double* o,
                               bool generalized) {
  generalized ? rows_impl<double, true>(b1, cols, begin, end, o) : rows_impl<double, false>(b1, cols, begin, end, o);
}

template <typename T, bool kGeneralized>
void pairwise_impl(const at::Tensor& boxes1, const at::Tensor& boxes2, at::Tensor& out) {
  const int64_t n = boxes1.size(0), m = boxes2.size(0);
  const T* b2 = boxes2.data_ptr<T>();
  Columns<T> cols;
  for (auto* v : {&cols.x1, &cols.y1, &cols.x2, &cols.y2, &cols.area}) v->resize(static_cast<size_t>(m));
  for (int64_t j = 0; j < m; ++j) {
    cols.x1[j] = b2[4 * j];
    cols.y1[j] = b2[4 * j + 1];
    cols.x2[j] = b2[4 * j + 2];
    cols.y2[j] = b2[4 * j + 3];
    cols.area[j] = (cols.x2[j] - cols.x1[j]) * (cols.y2[j] - cols.y1[j]);
  }
  const T* b1 = boxes1.data_ptr<T>();
  T* o = out.data_ptr<T>();
  const int64_t grain = std::max<int64_t>(1, kGrainElements / std::max<int64_t>(m, 1));
  at::parallel_for(0, n, grain, [&](int64_t begin, int64_t end) { rows(b1, cols, begin, end, o, kGeneralized); });
}

template <bool kGeneralized>
at::Tensor pairwise(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  TORCH_CHECK(boxes1.dim() == 2 && boxes1.size(1) == 4, "box_iou: boxes1 must be N x 4, got ", boxes1.sizes());
  TORCH_CHECK(boxes2.dim() == 2 && boxes2.size(1) == 4, "box_iou: boxes2 must be M x 4, got ", boxes2.sizes());
  TORCH_CHECK(boxes1.device().is_cpu() && boxes2.device().is_cpu(), "box_iou_cpu: boxes must be CPU tensors");
  TORCH_CHECK(boxes1.scalar_type() == boxes2.scalar_type() &&
                  (boxes1.scalar_type() == at::kFloat || boxes1.scalar_type() == at::kDouble),
              "box_iou_cpu: boxes must both be float or both double, got ", boxes1.scalar_type(), " and ",
              boxes2.scalar_type());
  at::Tensor out = at::empty({boxes1.size(0), boxes2.size(0)}, boxes1.options());
  if (out.numel() == 0) return out;
  const at::Tensor a = boxes1.contiguous(), b = boxes2.contiguous();
  AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "box_iou_cpu", [&] { pairwise_impl<scalar_t, kGeneralized>(a, b, out); });
  return out;
}

}  // namespace

at::Tensor box_iou_cpu(const at::Tensor& boxes1, const at::Tensor& boxes2) { return pairwise<false>(boxes1, boxes2); }

at::Tensor generalized_box_iou_cpu(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  return pairwise<true>(boxes1, boxes2);
}

}  // namespace detlab
