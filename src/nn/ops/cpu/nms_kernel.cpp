// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Greedy NMS CPU kernels (single-class and per-category), exact to torchvision's nms_kernel.cpp.
//
// torchvision walks every later box for every kept box and tests a `suppressed` flag. Here the candidates are
// copied once into score order and the list is compacted as the walk goes: each kept box scans only the boxes
// still alive, in one branch-free pass that computes the IoU and writes the survivor back in place. The IoU uses
// torchvision's expression and operand order, and the threshold test is moved into the boxes' dtype without
// changing its outcome (nms_threshold_in), so the kept set is identical. batched_nms runs the same walk on each
// category's candidates, in parallel over categories.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "nn/ops/nms.h"

namespace detlab::ops {
namespace {

template <typename T>
struct Candidate {
  T x1, y1, x2, y2, area;
  int64_t rank;  // position in the score order
};

/// Greedy NMS over cand[0, m), already in decreasing score order. Appends the kept ranks to `kept`.
/// The array is overwritten (compacted) as boxes are suppressed.
template <typename T>
void greedy_nms(Candidate<T>* cand, int64_t m, T threshold, std::vector<int64_t>& kept) {
  while (m > 0) {
    const Candidate<T> b = cand[0];
    kept.push_back(b.rank);
    int64_t alive = 0;
    for (int64_t j = 1; j < m; ++j) {
      const Candidate<T> c = cand[j];
      const T xx1 = std::max(b.x1, c.x1);
      const T yy1 = std::max(b.y1, c.y1);
      const T xx2 = std::min(b.x2, c.x2);
      const T yy2 = std::min(b.y2, c.y2);
      const T w = std::max(T(0), xx2 - xx1);
      const T h = std::max(T(0), yy2 - yy1);
      const T inter = w * h;
      const T ovr = inter / (b.area + c.area - inter);
      cand[alive] = c;
      alive += !(ovr > threshold);
    }
    m = alive;
  }
}

/// Candidates in score order (order[r] = input index of rank r).
template <typename T>
std::vector<Candidate<T>> sorted_candidates(const at::Tensor& boxes, const at::Tensor& order) {
  const at::Tensor b = boxes.contiguous();
  const T* p = b.data_ptr<T>();
  const int64_t* ord = order.data_ptr<int64_t>();
  const int64_t n = boxes.size(0);
  std::vector<Candidate<T>> cand(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    const T* q = p + ord[r] * 4;
    cand[static_cast<size_t>(r)] = Candidate<T>{q[0], q[1], q[2], q[3], (q[2] - q[0]) * (q[3] - q[1]), r};
  }
  return cand;
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
    auto cand = sorted_candidates<scalar_t>(boxes, order);
    const auto thr = static_cast<scalar_t>(nms_threshold_in(boxes.scalar_type(), iou_threshold));
    greedy_nms(cand.data(), static_cast<int64_t>(cand.size()), thr, kept);
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
    const auto all = sorted_candidates<scalar_t>(boxes, order);
    const auto thr = static_cast<scalar_t>(nms_threshold_in(boxes.scalar_type(), iou_threshold));
    at::parallel_for(0, groups, 1, [&](int64_t g0, int64_t g1) {
      std::vector<Candidate<scalar_t>> cand;
      std::vector<int64_t> kept;
      for (int64_t g = g0; g < g1; ++g) {
        cand.clear();
        kept.clear();
        for (int64_t i = group_start[g]; i < group_start[g + 1]; ++i) cand.push_back(all[by_class[i]]);
        greedy_nms(cand.data(), static_cast<int64_t>(cand.size()), thr, kept);
        for (int64_t r : kept) keep[static_cast<size_t>(r)] = 1;  // distinct ranks per group: no race
      }
    });
  });
  std::vector<int64_t> kept_ranks;
  for (int64_t r = 0; r < n; ++r)
    if (keep[static_cast<size_t>(r)]) kept_ranks.push_back(r);
  return ranks_to_indices(kept_ranks, order);
}

}  // namespace detlab::ops
