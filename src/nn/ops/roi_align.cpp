// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoIAlign, device-generic path: sample coordinates and bilinear taps by tensor arithmetic, values by index_select.
//
// The coordinates are computed with the same sequence of operations as torchvision's kernel (so they agree to
// the bit); only the final sum over samples is reduced in a different order. RoIs are processed in chunks so that
// the gathered values stay within a fixed memory budget.
#include "nn/ops/roi_align.h"

#include <algorithm>

#include "nn/ops/roi_args.h"

namespace detlab {
namespace {

// Elements gathered per chunk (values of K_chunk x samples x 4 taps x C); 16M floats = 64 MB.
constexpr int64_t kGatherBudget = int64_t{1} << 24;

/// Bilinear taps along one axis for sample coordinates `coord` (any shape) on an axis of `size` pixels:
/// low/high indices, low/high weights and the "inside" mask (samples more than 1 px outside contribute nothing).
struct AxisTaps {
  at::Tensor low, high, w_low, w_high, inside;
};

AxisTaps axis_taps(const at::Tensor& coord, int64_t size) {
  AxisTaps t;
  t.inside = (coord >= -1.0) & (coord <= static_cast<double>(size));
  at::Tensor c = coord.clamp_min(0);
  at::Tensor low = c.floor().to(at::kLong);
  const at::Tensor at_edge = low >= size - 1;
  low = low.clamp_max(size - 1);
  t.low = low;
  t.high = at::where(at_edge, low, low + 1);
  c = at::where(at_edge, low.to(coord.scalar_type()), c);
  t.w_high = c - low;      // ly = y - y_low
  t.w_low = 1 - t.w_high;  // hy = 1 - ly
  return t;
}

}  // namespace

at::Tensor roi_align_generic(const at::Tensor& input, const at::Tensor& rois, const RoiAlignOptions& o) {
  check_roi_op_args("roi_align", input, rois, o.output_height, o.output_width);
  const int64_t num_rois = rois.size(0), channels = input.size(1), height = input.size(2), width = input.size(3);
  const int64_t out_h = o.output_height, out_w = o.output_width;
  if (num_rois == 0 || input.numel() == 0) return at::zeros({num_rois, channels, out_h, out_w}, input.options());

  const at::Tensor r = rois.detach();  // torchvision gives rois no gradient
  const double offset = o.aligned ? 0.5 : 0.0;
  const at::Tensor batch = r.select(1, 0).to(at::kLong);
  const at::Tensor start_w = r.select(1, 1) * o.spatial_scale - offset;
  const at::Tensor start_h = r.select(1, 2) * o.spatial_scale - offset;
  at::Tensor roi_w = (r.select(1, 3) * o.spatial_scale - offset) - start_w;
  at::Tensor roi_h = (r.select(1, 4) * o.spatial_scale - offset) - start_h;
  if (!o.aligned) {  // legacy: force malformed RoIs to be at least 1x1
    roi_w = roi_w.clamp_min(1.0);
    roi_h = roi_h.clamp_min(1.0);
  }
  const at::Tensor bin_h = roi_h / static_cast<double>(out_h);
  const at::Tensor bin_w = roi_w / static_cast<double>(out_w);
  at::Tensor grid_h, grid_w;
  if (o.sampling_ratio > 0) {
    grid_h = at::full({num_rois}, o.sampling_ratio, r.options().dtype(at::kLong));
    grid_w = grid_h;
  } else {
    grid_h = (roi_h / static_cast<double>(out_h)).ceil().to(at::kLong).clamp_min(0);
    grid_w = (roi_w / static_cast<double>(out_w)).ceil().to(at::kLong).clamp_min(0);
  }
  const int64_t max_gh = std::max<int64_t>(grid_h.max().item<int64_t>(), 1);
  const int64_t max_gw = std::max<int64_t>(grid_w.max().item<int64_t>(), 1);

  // Sample coordinates: y[k, ph, iy] = start_h + ph * bin_h + (iy + 0.5) * bin_h / grid_h  (torchvision's order).
  const auto fopt = r.options();
  const at::Tensor ph = at::arange(out_h, fopt).view({1, out_h, 1});
  const at::Tensor pw = at::arange(out_w, fopt).view({1, out_w, 1});
  const at::Tensor iy = at::arange(max_gh, fopt).view({1, 1, max_gh}) + 0.5;
  const at::Tensor ix = at::arange(max_gw, fopt).view({1, 1, max_gw}) + 0.5;
  const at::Tensor gh_f = grid_h.to(fopt.dtype()).clamp_min(1).view({-1, 1, 1});
  const at::Tensor gw_f = grid_w.to(fopt.dtype()).clamp_min(1).view({-1, 1, 1});
  const at::Tensor bh = bin_h.view({-1, 1, 1}), bw = bin_w.view({-1, 1, 1});
  const at::Tensor y = (start_h.view({-1, 1, 1}) + ph * bh) + iy * bh / gh_f;  // K x out_h x max_gh
  const at::Tensor x = (start_w.view({-1, 1, 1}) + pw * bw) + ix * bw / gw_f;  // K x out_w x max_gw
  const AxisTaps ty = axis_taps(y, height), tx = axis_taps(x, width);
  // Samples beyond a RoI's own grid (adaptive sampling gives RoIs different grids) are masked out.
  const at::Tensor in_grid_y = at::arange(max_gh, grid_h.options()).view({1, 1, -1}) < grid_h.view({-1, 1, 1});
  const at::Tensor in_grid_x = at::arange(max_gw, grid_w.options()).view({1, 1, -1}) < grid_w.view({-1, 1, 1});
  const at::Tensor valid_y = (ty.inside & in_grid_y).view({num_rois, out_h, max_gh, 1, 1});
  const at::Tensor valid_x = (tx.inside & in_grid_x).view({num_rois, 1, 1, out_w, max_gw});
  const at::Tensor valid = valid_y & valid_x;  // K x out_h x gh x out_w x gw

  auto as_y = [&](const at::Tensor& t) { return t.view({num_rois, out_h, max_gh, 1, 1}); };
  auto as_x = [&](const at::Tensor& t) { return t.view({num_rois, 1, 1, out_w, max_gw}); };
  const at::Tensor zero = at::zeros({}, fopt);
  const at::Tensor w1 = at::where(valid, as_y(ty.w_low) * as_x(tx.w_low), zero);
  const at::Tensor w2 = at::where(valid, as_y(ty.w_low) * as_x(tx.w_high), zero);
  const at::Tensor w3 = at::where(valid, as_y(ty.w_high) * as_x(tx.w_low), zero);
  const at::Tensor w4 = at::where(valid, as_y(ty.w_high) * as_x(tx.w_high), zero);
  const at::Tensor base = (batch * (height * width)).view({num_rois, 1, 1, 1, 1});
  const at::Tensor pos1 = base + as_y(ty.low) * width + as_x(tx.low);
  const at::Tensor pos2 = base + as_y(ty.low) * width + as_x(tx.high);
  const at::Tensor pos3 = base + as_y(ty.high) * width + as_x(tx.low);
  const at::Tensor pos4 = base + as_y(ty.high) * width + as_x(tx.high);
  const at::Tensor count = (grid_h * grid_w).clamp_min(1).to(fopt.dtype()).view({-1, 1, 1, 1});

  // (N*H*W) x C table: one row per pixel, so a gather fetches all channels of a tap at once.
  const at::Tensor table = input.permute({0, 2, 3, 1}).reshape({-1, channels});
  const int64_t samples = out_h * max_gh * out_w * max_gw;
  const int64_t chunk = std::max<int64_t>(1, kGatherBudget / std::max<int64_t>(1, samples * 4 * channels));
  std::vector<at::Tensor> outputs;
  for (int64_t k0 = 0; k0 < num_rois; k0 += chunk) {
    const int64_t k1 = std::min(num_rois, k0 + chunk), n = k1 - k0;
    auto tap = [&](const at::Tensor& pos, const at::Tensor& w) {
      const at::Tensor p = pos.expand({num_rois, out_h, max_gh, out_w, max_gw}).slice(0, k0, k1).reshape(-1);
      const at::Tensor v = table.index_select(0, p).view({n, out_h, max_gh, out_w, max_gw, channels});
      return w.slice(0, k0, k1).unsqueeze(-1) * v;
    };
    // Same tap order as torchvision: ((w1 v1 + w2 v2) + w3 v3) + w4 v4, then the sum over samples.
    const at::Tensor vals = tap(pos1, w1) + tap(pos2, w2) + tap(pos3, w3) + tap(pos4, w4);
    const at::Tensor pooled = vals.sum({2, 4}) / count.slice(0, k0, k1);  // n x out_h x out_w x C
    outputs.push_back(pooled.permute({0, 3, 1, 2}));
  }
  return at::cat(outputs, 0).contiguous();
}

}  // namespace detlab
