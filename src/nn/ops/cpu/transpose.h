// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tiled transpose of a small row-major matrix: the channels-last RoI kernels' [bins][C] -> [C][bins] output step.
#pragma once

#include <algorithm>
#include <cstdint>

namespace detlab {

/// dst[c * rows + r] = src[r * cols + c] for a rows x cols row-major src. Writing the transposed element by
/// element strides through dst and stalls on the stores; 16 x 16 tiles keep both sides' cache lines in L1.
template <typename S>
inline void transpose_to(const S* src, int64_t rows, int64_t cols, S* dst) {
  constexpr int64_t kTile = 16;  // 16 floats = one 64-byte cache line
  for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
    const int64_t c1 = std::min(cols, c0 + kTile);
    for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile);
      for (int64_t c = c0; c < c1; ++c)
        for (int64_t r = r0; r < r1; ++r) dst[c * rows + r] = src[r * cols + c];
    }
  }
}

}  // namespace detlab
