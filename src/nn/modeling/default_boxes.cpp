// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DefaultBoxGenerator (see default_boxes.h): torchvision's float operations in torchvision's order.
#include "nn/modeling/default_boxes.h"

#include <cmath>

namespace detlab {

DefaultBoxOptions ssd300_default_boxes() {
  DefaultBoxOptions o;
  o.aspect_ratios = {{2}, {2, 3}, {2, 3}, {2, 3}, {2}, {2}};
  o.scales = {0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05};
  o.steps = {8, 16, 32, 64, 100, 300};
  return o;
}

DefaultBoxOptions ssdlite320_default_boxes() {
  DefaultBoxOptions o;
  o.aspect_ratios.assign(6, {2, 3});
  o.min_ratio = 0.2;
  o.max_ratio = 0.95;
  return o;
}

DefaultBoxGenerator::DefaultBoxGenerator(DefaultBoxOptions opts) : opts_(std::move(opts)) {
  const size_t m = opts_.aspect_ratios.size();
  TORCH_CHECK(m > 0, "DefaultBoxGenerator: aspect_ratios must name at least one feature map");
  TORCH_CHECK(opts_.steps.empty() || opts_.steps.size() == m, "DefaultBoxGenerator: ", opts_.steps.size(),
              " steps for ", m, " feature maps");
  for (double s : opts_.steps) TORCH_CHECK(s > 0, "DefaultBoxGenerator: steps must be positive, got ", s);
  for (const auto& rs : opts_.aspect_ratios)
    for (double r : rs) TORCH_CHECK(r > 0, "DefaultBoxGenerator: aspect ratios must be positive, got ", r);
  if (opts_.scales.empty()) {
    TORCH_CHECK(opts_.min_ratio > 0 && opts_.min_ratio <= opts_.max_ratio, "DefaultBoxGenerator: min_ratio ",
                opts_.min_ratio, " and max_ratio ", opts_.max_ratio, " must satisfy 0 < min <= max");
    if (m > 1) {
      const double range = opts_.max_ratio - opts_.min_ratio;
      for (size_t k = 0; k < m; ++k) scales_.push_back(opts_.min_ratio + range * static_cast<double>(k) / (m - 1.0));
      scales_.push_back(1.0);  // torchvision: s'_m = sqrt(s_m * 1.0) for the last map
    } else {
      scales_ = {opts_.min_ratio, opts_.max_ratio};
    }
  } else {
    TORCH_CHECK(opts_.scales.size() == m + 1, "DefaultBoxGenerator: ", opts_.scales.size(), " scales for ", m,
                " feature maps (need one more than maps)");
    scales_ = opts_.scales;
  }
  for (size_t k = 0; k < m; ++k) {
    // Pairs computed in double (Python floats) and rounded to float32 once, as torch.as_tensor does.
    const double s_k = scales_[k];
    const double s_prime = std::sqrt(scales_[k] * scales_[k + 1]);
    std::vector<double> wh = {s_k, s_k, s_prime, s_prime};
    for (double ar : opts_.aspect_ratios[k]) {
      const double sq = std::sqrt(ar);
      const double w = s_k * sq, h = s_k / sq;
      wh.insert(wh.end(), {w, h, h, w});
    }
    wh_pairs_.push_back(torch::tensor(wh, torch::kDouble).to(torch::kFloat).view({-1, 2}));
  }
}

std::vector<int64_t> DefaultBoxGenerator::num_anchors_per_location() const {
  std::vector<int64_t> n;
  for (const auto& r : opts_.aspect_ratios) n.push_back(2 + 2 * static_cast<int64_t>(r.size()));
  return n;
}

torch::Tensor DefaultBoxGenerator::boxes(const std::vector<std::array<int64_t, 2>>& grid_sizes,
                                         std::array<int64_t, 2> image_size, const torch::TensorOptions& options) const {
  TORCH_CHECK(grid_sizes.size() == wh_pairs_.size(), "DefaultBoxGenerator: ", grid_sizes.size(),
              " feature maps for ", wh_pairs_.size(), " configured ones");
  TORCH_CHECK(image_size[0] > 0 && image_size[1] > 0, "DefaultBoxGenerator: bad image size ", image_size[0], "x",
              image_size[1]);
  std::vector<torch::Tensor> per_map;
  for (size_t k = 0; k < grid_sizes.size(); ++k) {
    const auto [fh, fw] = grid_sizes[k];
    TORCH_CHECK(fh > 0 && fw > 0, "DefaultBoxGenerator: empty feature map ", k, " (", fh, "x", fw, ")");
    double x_f = static_cast<double>(fw), y_f = static_cast<double>(fh);
    if (!opts_.steps.empty()) {
      x_f = static_cast<double>(image_size[1]) / opts_.steps[k];
      y_f = static_cast<double>(image_size[0]) / opts_.steps[k];
    }
    // int64 arange + 0.5 is float32, divided by a double scalar in float32: torchvision's exact operations.
    const torch::Tensor shifts_x = (torch::arange(0, fw) + 0.5) / x_f;
    const torch::Tensor shifts_y = (torch::arange(0, fh) + 0.5) / y_f;
    const auto mesh = torch::meshgrid({shifts_y, shifts_x}, "ij");
    const torch::Tensor sx = mesh[1].reshape(-1), sy = mesh[0].reshape(-1);
    const int64_t a = wh_pairs_[k].size(0);
    const torch::Tensor centres = torch::stack({sx, sy}, -1).repeat_interleave(a, 0);  // (HW A) x 2
    const torch::Tensor wh = (opts_.clip ? wh_pairs_[k].clamp(0, 1) : wh_pairs_[k]).repeat({fh * fw, 1});
    per_map.push_back(torch::cat({centres, wh}, 1));
  }
  const torch::Tensor d = torch::cat(per_map, 0);
  const torch::Tensor xy_size =
      torch::tensor({static_cast<float>(image_size[1]), static_cast<float>(image_size[0])}, torch::kFloat);
  const torch::Tensor half = 0.5 * d.slice(1, 2, 4);
  const torch::Tensor out =
      torch::cat({(d.slice(1, 0, 2) - half) * xy_size, (d.slice(1, 0, 2) + half) * xy_size}, -1);
  return out.to(options.device());
}

torch::Tensor DefaultBoxGenerator::forward(const torch::Tensor& images,
                                           const std::vector<torch::Tensor>& feature_maps) const {
  TORCH_CHECK(images.dim() == 4, "DefaultBoxGenerator: images must be N x C x H x W, got ", images.sizes());
  std::vector<std::array<int64_t, 2>> grid;
  for (const auto& f : feature_maps) grid.push_back({f.size(-2), f.size(-1)});
  return boxes(grid, {images.size(2), images.size(3)}, images.options());
}

}  // namespace detlab
