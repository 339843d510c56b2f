// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// AnchorGenerator: torchvision's cell anchors (float32, rounded) tiled over each feature map with integer strides.
#include "nn/modeling/anchor_generator.h"

namespace detlab {

AnchorGenerator::AnchorGenerator(AnchorGeneratorOptions opts) : opts_(std::move(opts)) {
  TORCH_CHECK(!opts_.sizes.empty(), "AnchorGenerator: sizes must name at least one feature level");
  if (opts_.aspect_ratios.size() == 1 && opts_.sizes.size() > 1)
    opts_.aspect_ratios.assign(opts_.sizes.size(), opts_.aspect_ratios[0]);
  TORCH_CHECK(opts_.aspect_ratios.size() == opts_.sizes.size(), "AnchorGenerator: ", opts_.sizes.size(),
              " levels of sizes but ", opts_.aspect_ratios.size(), " of aspect ratios");
  for (size_t l = 0; l < opts_.sizes.size(); ++l) {
    TORCH_CHECK(!opts_.sizes[l].empty() && !opts_.aspect_ratios[l].empty(), "AnchorGenerator: level ", l,
                " has no sizes or no aspect ratios");
    cell_anchors_.push_back(generate_anchors(opts_.sizes[l], opts_.aspect_ratios[l]));
  }
}

at::Tensor AnchorGenerator::generate_anchors(const std::vector<double>& scales,
                                             const std::vector<double>& aspect_ratios) {
  const at::Tensor s = at::tensor(scales, at::TensorOptions().dtype(at::kDouble)).to(at::kFloat);
  const at::Tensor r = at::tensor(aspect_ratios, at::TensorOptions().dtype(at::kDouble)).to(at::kFloat);
  const at::Tensor h_ratios = at::sqrt(r);
  const at::Tensor w_ratios = h_ratios.reciprocal();  // Python's 1 / t is t.reciprocal() * 1
  const at::Tensor ws = (w_ratios.unsqueeze(1) * s.unsqueeze(0)).view(-1);
  const at::Tensor hs = (h_ratios.unsqueeze(1) * s.unsqueeze(0)).view(-1);
  return (at::stack({-ws, -hs, ws, hs}, 1) / 2).round();
}

std::vector<int64_t> AnchorGenerator::num_anchors_per_location() const {
  std::vector<int64_t> n;
  for (size_t l = 0; l < opts_.sizes.size(); ++l)
    n.push_back(static_cast<int64_t>(opts_.sizes[l].size() * opts_.aspect_ratios[l].size()));
  return n;
}

std::vector<at::Tensor> AnchorGenerator::grid_anchors(const std::vector<std::array<int64_t, 2>>& grid_sizes,
                                                      const std::vector<std::array<int64_t, 2>>& strides,
                                                      const at::TensorOptions& options) const {
  TORCH_CHECK(grid_sizes.size() == strides.size() && grid_sizes.size() == cell_anchors_.size(),
              "AnchorGenerator: ", grid_sizes.size(), " feature maps and ", strides.size(), " strides for ",
              cell_anchors_.size(), " levels of sizes / aspect ratios; they must match");
  std::vector<at::Tensor> anchors;
  const auto int_opt = at::TensorOptions().dtype(at::kInt).device(options.device());
  for (size_t l = 0; l < grid_sizes.size(); ++l) {
    const auto [grid_h, grid_w] = grid_sizes[l];
    const auto [stride_h, stride_w] = strides[l];
    const at::Tensor base = cell_anchors_[l].to(options);
    // Location centres [x, y, x, y] (int32 like torchvision, exact for any realistic image size).
    const at::Tensor shifts_x = at::arange(grid_w, int_opt) * stride_w;
    const at::Tensor shifts_y = at::arange(grid_h, int_opt) * stride_h;
    const auto mesh = at::meshgrid({shifts_y, shifts_x}, "ij");
    const at::Tensor sy = mesh[0].reshape(-1), sx = mesh[1].reshape(-1);
    const at::Tensor shifts = at::stack({sx, sy, sx, sy}, 1);
    anchors.push_back((shifts.view({-1, 1, 4}) + base.view({1, -1, 4})).reshape({-1, 4}));
  }
  return anchors;
}

std::vector<at::Tensor> AnchorGenerator::forward(const at::Tensor& images,
                                                 const std::vector<at::Tensor>& feature_maps) const {
  TORCH_CHECK(images.dim() == 4, "AnchorGenerator: images must be N x C x H x W, got ", images.sizes());
  TORCH_CHECK(!feature_maps.empty(), "AnchorGenerator: needs at least one feature map");
  const int64_t image_h = images.size(2), image_w = images.size(3);
  std::vector<std::array<int64_t, 2>> grid_sizes, strides;
  for (const auto& f : feature_maps) {
    TORCH_CHECK(f.dim() >= 2 && f.size(-2) > 0 && f.size(-1) > 0, "AnchorGenerator: bad feature map shape ", f.sizes());
    grid_sizes.push_back({f.size(-2), f.size(-1)});
    strides.push_back({image_h / f.size(-2), image_w / f.size(-1)});  // floor division, as torchvision
  }
  const auto options = feature_maps[0].options();
  const at::Tensor all = at::cat(grid_anchors(grid_sizes, strides, options), 0);
  return std::vector<at::Tensor>(static_cast<size_t>(images.size(0)), all);
}

}  // namespace detlab
