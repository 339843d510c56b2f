// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DETR's sine positional encoding of a feature map (PositionEmbeddingSine) and the padding masks it reads.
#pragma once

#include <torch/types.h>

#include <array>
#include <cstdint>
#include <vector>

namespace detlab {

struct PositionEmbeddingSineOptions {
  int64_t num_pos_feats = 128;       // per axis: d_model / 2 (DETR's hidden_dim // 2 = 128)
  double temperature = 10000;        // wavelengths 2 pi .. 10000 * 2 pi, as "Attention is all you need"
  bool normalize = true;             // DETR normalizes positions to [0, scale] over the image (not the padding)
  double scale = 6.283185307179586;  // 2 pi: one full period over the image when normalized
};

/// What this represents: DETR's PositionEmbeddingSine (Carion et al. 2020, models/position_encoding.py), the
/// 2-D extension of the Transformer's sinusoids: for each valid (unmasked) pixel, y and x are its 1-based
/// positions counted over valid pixels (cumulative sums), optionally normalized to (0, scale] by the count along
/// the axis; channel 2k / 2k+1 of each axis holds sin / cos(pos / temperature^(2k / num_pos_feats)); the y block
/// precedes the x block. Values at padded pixels are defined (as in DETR) but ignored by attention.
/// requires: mask N x H x W bool, true = padding; num_pos_feats even and > 0.
/// ensures:  N x 2 num_pos_feats x H x W float32 on the mask's device.
at::Tensor position_embedding_sine(const at::Tensor& mask, const PositionEmbeddingSineOptions& opts = {});

/// The same encoding for points: row q of the result is what position_embedding_sine gives a pixel at
/// normalized position (x, y) = points[q] (its y block, then its x block), with positions scaled by opts.scale.
/// requires: points Q x 2 (x, y), typically in [0, 1]; num_pos_feats even and > 0.
/// ensures:  Q x 2 num_pos_feats, points' dtype and device.
at::Tensor point_embedding_sine(const at::Tensor& points, const PositionEmbeddingSineOptions& opts = {});

/// Padding mask of a batch: true outside each image's (height, width) in an N x H x W grid.
/// requires: sizes.size() == N, each within (H, W).
at::Tensor padding_mask(const std::vector<std::array<int64_t, 2>>& sizes, int64_t height, int64_t width,
                        const at::Device& device);

/// The mask of a feature map: the padding mask resized to (height, width) by nearest-neighbour interpolation,
/// as DETR's backbone does (F.interpolate(m[None].float(), size).to(bool)).
at::Tensor resize_mask(const at::Tensor& mask, int64_t height, int64_t width);

}  // namespace detlab
