// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// PositionEmbeddingSine and padding masks: the same tensor operations as DETR's Python code.
#include "nn/detr/position_encoding.h"

namespace detlab {

namespace {
constexpr double kNormalizeEps = 1e-6;  // DETR's eps: keeps a fully padded row / column finite
}

namespace {

/// embed (any shape) -> embed.shape x num_pos_feats: sin / cos interleaved over the temperature's wavelengths.
at::Tensor encode_axis(const at::Tensor& embed, const PositionEmbeddingSineOptions& o) {
  at::Tensor dim_t = at::arange(o.num_pos_feats, embed.options());
  dim_t = at::pow(o.temperature, 2 * at::floor_divide(dim_t, 2) / static_cast<double>(o.num_pos_feats));
  const at::Tensor pos = embed.unsqueeze(-1) / dim_t;
  using at::indexing::Slice;
  const at::Tensor s = pos.index({"...", Slice(0, at::indexing::None, 2)}).sin();
  const at::Tensor c = pos.index({"...", Slice(1, at::indexing::None, 2)}).cos();
  return at::stack({s, c}, -1).flatten(-2);  // interleaved sin, cos
}

}  // namespace

at::Tensor point_embedding_sine(const at::Tensor& points, const PositionEmbeddingSineOptions& o) {
  TORCH_CHECK(points.dim() == 2 && points.size(1) == 2, "point_embedding_sine: points must be Q x 2, got ",
              points.sizes());
  TORCH_CHECK(o.num_pos_feats > 0 && o.num_pos_feats % 2 == 0,
              "point_embedding_sine: num_pos_feats must be even and positive, got ", o.num_pos_feats);
  using at::indexing::Slice;
  const at::Tensor x = points.index({Slice(), 0}) * o.scale, y = points.index({Slice(), 1}) * o.scale;
  return at::cat({encode_axis(y, o), encode_axis(x, o)}, 1);
}

at::Tensor position_embedding_sine(const at::Tensor& mask, const PositionEmbeddingSineOptions& o) {
  TORCH_CHECK(mask.dim() == 3 && mask.scalar_type() == at::kBool,
              "position_embedding_sine: mask must be N x H x W "
              "bool, got ",
              mask.sizes(), " ", mask.scalar_type());
  TORCH_CHECK(o.num_pos_feats > 0 && o.num_pos_feats % 2 == 0,
              "position_embedding_sine: num_pos_feats must be "
              "even and positive, got ",
              o.num_pos_feats);
  const at::Tensor not_mask = mask.logical_not();
  at::Tensor y_embed = not_mask.cumsum(1, at::kFloat);
  at::Tensor x_embed = not_mask.cumsum(2, at::kFloat);
  if (o.normalize) {
    using at::indexing::Slice;
    y_embed = y_embed / (y_embed.index({Slice(), Slice(-1), Slice()}) + kNormalizeEps) * o.scale;
    x_embed = x_embed / (x_embed.index({Slice(), Slice(), Slice(-1)}) + kNormalizeEps) * o.scale;
  }
  return at::cat({encode_axis(y_embed, o), encode_axis(x_embed, o)}, 3).permute({0, 3, 1, 2});
}

at::Tensor padding_mask(const std::vector<std::array<int64_t, 2>>& sizes, int64_t height, int64_t width,
                        const at::Device& device) {
  at::Tensor mask = at::ones({static_cast<int64_t>(sizes.size()), height, width}, at::kBool);
  for (size_t i = 0; i < sizes.size(); ++i) {
    TORCH_CHECK(sizes[i][0] > 0 && sizes[i][1] > 0 && sizes[i][0] <= height && sizes[i][1] <= width,
                "padding_mask: image ", i, " size (", sizes[i][0], ", ", sizes[i][1], ") outside (", height, ", ",
                width, ")");
    using at::indexing::Slice;
    mask.index_put_({static_cast<int64_t>(i), Slice(0, sizes[i][0]), Slice(0, sizes[i][1])}, false);
  }
  return mask.to(device);
}

at::Tensor resize_mask(const at::Tensor& mask, int64_t height, int64_t width) {
  TORCH_CHECK(mask.dim() == 3, "resize_mask: mask must be N x H x W, got ", mask.sizes());
  return at::upsample_nearest2d(mask.unsqueeze(0).to(at::kFloat), {height, width}).squeeze(0).to(at::kBool);
}

}  // namespace detlab
