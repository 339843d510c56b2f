// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Greedy NMS CPU kernels (single-class and per-category), exact to torchvision's nms_kernel.cpp.
//
// torchvision walks every later box for every kept box, gathering it through the score order and testing a
// `suppressed` flag first. Here the candidates are copied once into score order as separate coordinate arrays,
// each kept box marks its suppressions in one branch-free pass that vectorises (AVX2 where available), and the
// survivors are compacted whenever half of the remaining window is dead. The IoU uses torchvision's expression
// and operand order, and the threshold test is moved into the boxes' dtype without changing its outcome
// (nms_threshold_in), so the kept set is identical. batched_nms runs the same walk on each category's
// candidates, in parallel over categories.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <numeric>
#include <type_traits>
#include <vector>

#include "nn/ops/cpu/vectorize.h"
#include "nn/ops/nms.h"

namespace detlab {
namespace {

/// Candidates in score order, structure of arrays (the IoU loop vectorises over them).
template <typename T>
struct Candidates {
  std::vector<T> x1, y1, x2, y2, area;
  std::vector<int64_t> rank;  // position in the score order
  void resize(size_t n) {
    for (auto* v : {&x1, &y1, &x2, &y2, &area}) v->resize(n);
    rank.resize(n);
  }
};

/// dead[j] |= IoU(box, j) > threshold for j in [begin, end); returns how many became dead. torchvision's IoU
/// expression and operand order; `dead` has the width of T so that the loop vectorises without packing.
template <typename T, typename M>
DETLAB_ALWAYS_INLINE int64_t suppress_range(const Candidates<T>& c, M* __restrict dead, int64_t begin, int64_t end,
                                            int64_t box, T threshold) {
  const T* __restrict x1 = c.x1.data();
  const T* __restrict y1 = c.y1.data();
  const T* __restrict x2 = c.x2.data();
  const T* __restrict y2 = c.y2.data();
  const T* __restrict area = c.area.data();
  const T bx1 = x1[box], by1 = y1[box], bx2 = x2[box], by2 = y2[box], barea = area[box];
  int64_t newly = 0;
  for (int64_t j = begin; j < end; ++j) {
    const T xx1 = std::max(bx1, x1[j]), yy1 = std::max(by1, y1[j]);
    const T xx2 = std::min(bx2, x2[j]), yy2 = std::min(by2, y2[j]);
    const T w = std::max(T(0), xx2 - xx1), h = std::max(T(0), yy2 - yy1);
    const T inter = w * h;
    const T ovr = inter / (barea + area[j] - inter);
    const M s = ovr > threshold;  // NaN IoU suppresses nothing, as in torchvision
    newly += s & ~dead[j];
    dead[j] |= s;
  }
  return newly;
}

DETLAB_TARGET_CLONES int64_t suppress(const Candidates<float>& c, int32_t* dead, int64_t begin, int64_t end,
                                      int64_t box, float threshold) {
  return suppress_range(c, dead, begin, end, box, threshold);
}
DETLAB_TARGET_CLONES int64_t suppress(const Candidates<double>& c, int64_t* dead, int64_t begin, int64_t end,
                                      int64_t box, double threshold) {
  return suppress_range(c, dead, begin, end, box, threshold);
}

/// Greedy NMS over candidates already in decreasing score order; appends the kept ranks to `kept`.
/// Each kept box marks the boxes it suppresses in one vectorised pass over the remaining window; when half of the
/// window is dead the survivors are compacted to the front, so passes stay proportional to the live boxes.
template <typename T>
void greedy_nms(Candidates<T>& c, T threshold, std::vector<int64_t>& kept) {
  using M = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  int64_t m = static_cast<int64_t>(c.rank.size());
  std::vector<M> dead(static_cast<size_t>(m), 0);
  int64_t i = 0, dead_in_window = 0;
  while (true) {
    while (i < m && dead[i]) {
      ++i;
      --dead_in_window;
    }
    if (i >= m) break;
    kept.push_back(c.rank[i]);
    dead_in_window += suppress(c, dead.data(), i + 1, m, i, threshold);
    ++i;
    if (2 * dead_in_window > m - i && m - i > 64) {  // compact [i, m) to the front; 64: not worth it below
      int64_t w = 0;
      for (int64_t j = i; j < m; ++j) {
        if (dead[j]) continue;
        c.x1[w] = c.x1[j];
        c.y1[w] = c.y1[j];
        c.x2[w] = c.x2[j];
        c.y2[w] = c.y2[j];
        c.area[w] = c.area[j];
        c.rank[w] = c.rank[j];
        ++w;
      }
      std::fill(dead.begin(), dead.begin() + w, M(0));
      m = w;
      i = 0;
      dead_in_window = 0;
    }
  }
}

/// Candidates for the ranks `ranks` of the score order (order[r] = input index of rank r).
template <typename T>
Candidates<T> gather_candidates(const T* boxes, const int64_t* order, const int64_t* ranks, int64_t n) {
  Candidates<T> c;
  c.resize(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    const int64_t r = ranks ? ranks[k] : k;
    const T* q = boxes + order[r] * 4;
    c.x1[k] = q[0];
    c.y1[k] = q[1];
    c.x2[k] = q[2];
    c.y2[k] = q[3];
    c.area[k] = (q[2] - q[0]) * (q[3] - q[1]);  // torchvision: areas = (x2 - x1) * (y2 - y1)
    c.rank[k] = r;
  }
  return c;
}

at::Tensor ranks_to_indices(const std::vector<int64_t>& ranks, const at::Tensor& order) {
  at::Tensor out = at::empty({static_cast<int64_t>(ranks.size())}, order.options());
  const int64_t* ord = order.data_ptr<int64_t>();
  int64_t* o = out.data_ptr<int64_t>();
  for (size_t i = 0; i < ranks.size(); ++i) o[i] = ord[ranks[i]];
  return out;
}

at::Tensor score_order(const at::Tensor& scores) {
  return std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true)).contiguous();
}

}  // namespace

at::Tensor nms_cpu(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  check_nms_args(boxes, scores, at::Tensor());
  TORCH_CHECK(nms_uses_cpu_kernel(boxes), "nms_cpu: boxes must be float or double CPU tensors");
  if (boxes.size(0) == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  const at::Tensor order = score_order(scores);
  std::vector<int64_t> kept;
  AT_DISPATCH_FLOATING_TYPES(boxes.scalar_type(), "nms_cpu", [&] {
    const at::Tensor b = boxes.contiguous();
    auto cand = gather_candidates<scalar_t>(b.data_ptr<scalar_t>(), order.data_ptr<int64_t>(), nullptr, b.size(0));
    const auto thr = static_cast<scalar_t>(nms_threshold_in(boxes.scalar_type(), iou_threshold));
    greedy_nms(cand, thr, kept);
  });
  return ranks_to_indices(kept, order);
}

at::Tensor batched_nms_cpu(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& idxs,
                           double iou_threshold) {
  TORCH_CHECK(idxs.defined(), "batched_nms: idxs must be defined");
  check_nms_args(boxes, scores, idxs);
  TORCH_CHECK(nms_uses_cpu_kernel(boxes), "batched_nms_cpu: boxes must be float or double CPU tensors");
  const int64_t n = boxes.size(0);
  if (n == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  const at::Tensor order = score_order(scores);
  // Category of each rank; ranks grouped by category, score order kept inside a group (stable sort).
  const at::Tensor cls = idxs.to(at::kLong).index_select(0, order).contiguous();
  const int64_t* c = cls.data_ptr<int64_t>();
  std::vector<int64_t> by_class(static_cast<size_t>(n));
  std::iota(by_class.begin(), by_class.end(), 0);
  std::stable_sort(by_class.begin(), by_class.end(), [c](int64_t a, int64_t b) { return c[a] < c[b]; });
  std::vector<int64_t> group_start;
  for (int64_t i = 0; i < n; ++i)
    if (i == 0 || c[by_class[i]] != c[by_class[i - 1]]) group_start.push_back(i);
  group_start.push_back(n);
  const int64_t groups = static_cast<int64_t>(group_start.size()) - 1;

  std::vector<uint8_t> keep(static_cast<size_t>(n), 0);
  AT_DISPATCH_FLOATING_TYPES(boxes.scalar_type(), "batched_nms_cpu", [&] {
    const at::Tensor b = boxes.contiguous();
    const auto thr = static_cast<scalar_t>(nms_threshold_in(boxes.scalar_type(), iou_threshold));
    at::parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
      std::vector<int64_t> kept;
      for (int64_t g = g0; g < g1; ++g) {
        kept.clear();
        auto cand = gather_candidates<scalar_t>(b.data_ptr<scalar_t>(), order.data_ptr<int64_t>(),
                                                by_class.data() + group_start[g], group_start[g + 1] - group_start[g]);
        greedy_nms(cand, thr, kept);
        for (int64_t r : kept) keep[static_cast<size_t>(r)] = 1;  // distinct ranks per group: no race
      }
    });
  });
  std::vector<int64_t> kept_ranks;
  for (int64_t r = 0; r < n; ++r)
    if (keep[static_cast<size_t>(r)]) kept_ranks.push_back(r);
  return ranks_to_indices(kept_ranks, order);
}

}  // namespace detlab
