// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoI max pooling, device-generic path: bin extents by tensor arithmetic, a padded gather per bin, max over it.
//
// Every bin is padded to the largest bin extent of the batch; padded cells hold -inf and never win. The maximum is
// taken over the bin's cells in row-major order and ATen's max returns the first maximal index, the same pixel
// torchvision's strict-greater scan keeps. Autograd flows through index_select and max.
#include "nn/ops/roi_pool.h"

#include <algorithm>
#include <cfloat>
#include <limits>

#include "nn/ops/roi_args.h"

namespace detlab {
namespace {

// Elements gathered per chunk (K_chunk x padded bin cells x C); 16M floats = 64 MB.
constexpr int64_t kGatherBudget = int64_t{1} << 24;

/// C's round(): half away from zero (ATen's round is half to even). x - trunc(x) is exact in floating point.
at::Tensor round_half_away(const at::Tensor& x) {
  const at::Tensor t = x.trunc();
  return at::where((x - t).abs() >= 0.5, t + x.sign(), t);
}

/// Start / end pixel of each bin along one axis (K x bins), clipped to [0, size]; torchvision's arithmetic.
std::pair<at::Tensor, at::Tensor> bin_extents(const at::Tensor& start, const at::Tensor& end, int64_t bins,
                                              int64_t size, const at::TensorOptions& fopt) {
  const at::Tensor length = (end - start + 1).clamp_min(1);  // malformed RoIs become 1 pixel
  const at::Tensor bin = (length.to(fopt.dtype()) / static_cast<double>(bins)).unsqueeze(1);
  const at::Tensor p = at::arange(bins, fopt).unsqueeze(0);
  at::Tensor lo = (p * bin).floor().to(at::kLong) + start.unsqueeze(1);
  at::Tensor hi = ((p + 1) * bin).ceil().to(at::kLong) + start.unsqueeze(1);
  return {lo.clamp(0, size), hi.clamp(0, size)};
}

}  // namespace

at::Tensor roi_pool_generic(const at::Tensor& input, const at::Tensor& rois, const RoiPoolOptions& o) {
  check_roi_op_args("roi_pool", input, rois, o.output_height, o.output_width);
  const int64_t num_rois = rois.size(0), channels = input.size(1), height = input.size(2), width = input.size(3);
  const int64_t out_h = o.output_height, out_w = o.output_width;
  if (num_rois == 0 || input.numel() == 0) return at::zeros({num_rois, channels, out_h, out_w}, input.options());

  const at::Tensor r = rois.detach();
  const auto fopt = r.options();
  const at::Tensor batch = r.select(1, 0).to(at::kLong);
  auto corner = [&](int64_t col) { return round_half_away(r.select(1, col) * o.spatial_scale).to(at::kLong); };
  const auto [h_lo, h_hi] = bin_extents(corner(2), corner(4), out_h, height, fopt);  // K x out_h
  const auto [w_lo, w_hi] = bin_extents(corner(1), corner(3), out_w, width, fopt);   // K x out_w
  const int64_t max_bh = std::max<int64_t>((h_hi - h_lo).max().item<int64_t>(), 1);
  const int64_t max_bw = std::max<int64_t>((w_hi - w_lo).max().item<int64_t>(), 1);

  // Padded cell coordinates: rows K x out_h x max_bh, cols K x out_w x max_bw.
  const at::Tensor rows = h_lo.unsqueeze(2) + at::arange(max_bh, h_lo.options()).view({1, 1, -1});
  const at::Tensor cols = w_lo.unsqueeze(2) + at::arange(max_bw, w_lo.options()).view({1, 1, -1});
  const at::Tensor row_ok = (rows < h_hi.unsqueeze(2)).view({num_rois, out_h, max_bh, 1, 1});
  const at::Tensor col_ok = (cols < w_hi.unsqueeze(2)).view({num_rois, 1, 1, out_w, max_bw});
  const at::Tensor cell_ok = row_ok & col_ok;  // K x out_h x bh x out_w x bw
  const at::Tensor pos = (batch * (height * width)).view({-1, 1, 1, 1, 1}) +
                         rows.clamp_max(height - 1).view({num_rois, out_h, max_bh, 1, 1}) * width +
                         cols.clamp_max(width - 1).view({num_rois, 1, 1, out_w, max_bw});
  // A bin is empty when it has no cell inside the map; its output is 0.
  const at::Tensor empty = ~cell_ok.any(4).any(2);  // K x out_h x out_w

  const at::Tensor table = input.permute({0, 2, 3, 1}).reshape({-1, channels});  // (N*H*W) x C
  const int64_t cells = out_h * max_bh * out_w * max_bw;
  const int64_t chunk = std::max<int64_t>(1, kGatherBudget / std::max<int64_t>(1, cells * channels));
  const at::Tensor neg_inf = at::full({}, -std::numeric_limits<double>::infinity(), input.options());
  const at::Tensor zero = at::zeros({}, input.options());
  std::vector<at::Tensor> outputs;
  for (int64_t k0 = 0; k0 < num_rois; k0 += chunk) {
    const int64_t k1 = std::min(num_rois, k0 + chunk), n = k1 - k0;
    const at::Tensor p = pos.expand({num_rois, out_h, max_bh, out_w, max_bw}).slice(0, k0, k1).reshape(-1);
    at::Tensor v = table.index_select(0, p).view({n, out_h, max_bh, out_w, max_bw, channels});
    v = at::where(cell_ok.slice(0, k0, k1).unsqueeze(-1), v, neg_inf);
    // n x out_h x out_w x C x (bh * bw), cells in row-major order within the bin.
    v = v.permute({0, 1, 3, 5, 2, 4}).reshape({n, out_h, out_w, channels, max_bh * max_bw});
    const at::Tensor best = std::get<0>(v.max(-1));
    const at::Tensor pooled = at::where(empty.slice(0, k0, k1).unsqueeze(-1), zero, best);
    outputs.push_back(pooled.permute({0, 3, 1, 2}));
  }
  return at::cat(outputs, 0).contiguous();
}

}  // namespace detlab
