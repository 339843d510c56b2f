// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Box geometry: area, intersection, the IoU family (IoU, GIoU, DIoU, CIoU) for one pair and pairwise, clipping.
#pragma once

#include <cstddef>
#include <vector>

#include "core/types.h"

namespace detlab {

/// Area of a box; 0 for an empty or inverted box (continuous coordinates, no "+1").
float area(const Box& b);
/// Area of the intersection of two boxes (0 when they do not overlap).
float intersection(const Box& a, const Box& b);
/// True when every coordinate is finite.
bool is_finite(const Box& b);
/// True when finite and x2 >= x1, y2 >= y1 (zero-area boxes are valid boxes).
bool is_valid(const Box& b);
/// Box clipped to [0, width] x [0, height].
Box clip(const Box& b, float width, float height);

enum class IouKind {
  kIou,   ///< intersection over union
  kGiou,  ///< generalized IoU, Rezatofighi et al. 2019: IoU - |C \ (A u B)| / |C|, in [-1, 1]
  kDiou,  ///< distance IoU, Zheng et al. 2020: IoU - d(centres)^2 / diag(C)^2
  kCiou,  ///< complete IoU, Zheng et al. 2020: DIoU - alpha * v (aspect-ratio consistency)
};

/// Overlap of one pair. IoU of two empty boxes is 0. DIoU / CIoU add kIouEps to their denominators, as
/// torchvision.ops does, so that they are defined for degenerate boxes and match it numerically.
float overlap(const Box& a, const Box& b, IouKind kind = IouKind::kIou);
inline float iou(const Box& a, const Box& b) { return overlap(a, b, IouKind::kIou); }
inline float giou(const Box& a, const Box& b) { return overlap(a, b, IouKind::kGiou); }
inline float diou(const Box& a, const Box& b) { return overlap(a, b, IouKind::kDiou); }
inline float ciou(const Box& a, const Box& b) { return overlap(a, b, IouKind::kCiou); }

/// Epsilon of torchvision's distance_box_iou / complete_box_iou.
constexpr float kIouEps = 1e-7f;

/// Dense row-major float matrix (rows x cols), the result of pairwise overlaps.
struct Matrix {
  int rows = 0, cols = 0;
  std::vector<float> data;
  float operator()(int r, int c) const { return data[static_cast<size_t>(r) * cols + c]; }
  float& operator()(int r, int c) { return data[static_cast<size_t>(r) * cols + c]; }
};

/// Pairwise overlaps: out(i, j) = overlap(a[i], b[j], kind); out is a.size() x b.size().
Matrix pairwise_overlap(const Boxes& a, const Boxes& b, IouKind kind = IouKind::kIou);

}  // namespace detlab
