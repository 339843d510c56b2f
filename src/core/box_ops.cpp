// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Box geometry and the IoU family.
#include "core/box_ops.h"

#include <algorithm>
#include <cmath>

namespace detlab {

float area(const Box& b) { return std::max(0.f, b.x2 - b.x1) * std::max(0.f, b.y2 - b.y1); }

float intersection(const Box& a, const Box& b) {
  const float w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const float h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  return (w > 0.f && h > 0.f) ? w * h : 0.f;
}

bool is_finite(const Box& b) {
  return std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) && std::isfinite(b.y2);
}

bool is_valid(const Box& b) { return is_finite(b) && b.x2 >= b.x1 && b.y2 >= b.y1; }

Box clip(const Box& b, float width, float height) {
  return {std::clamp(b.x1, 0.f, width), std::clamp(b.y1, 0.f, height), std::clamp(b.x2, 0.f, width),
          std::clamp(b.y2, 0.f, height)};
}

namespace {

// Shared by the pair and the pairwise versions so that both give bit-identical values.
inline float overlap_with_areas(const Box& a, float area_a, const Box& b, float area_b, IouKind kind) {
  const float inter = intersection(a, b);
  const float uni = area_a + area_b - inter;
  const float iou = uni > 0.f ? inter / uni : 0.f;
  if (kind == IouKind::kIou) return iou;

  const float cx1 = std::min(a.x1, b.x1), cy1 = std::min(a.y1, b.y1);
  const float cx2 = std::max(a.x2, b.x2), cy2 = std::max(a.y2, b.y2);
  if (kind == IouKind::kGiou) {
    const float hull = (cx2 - cx1) * (cy2 - cy1);
    return hull > 0.f ? iou - (hull - uni) / hull : iou;
  }
  const float diag2 = (cx2 - cx1) * (cx2 - cx1) + (cy2 - cy1) * (cy2 - cy1) + kIouEps;
  const float dx = a.cx() - b.cx(), dy = a.cy() - b.cy();
  const float diou = iou - (dx * dx + dy * dy) / diag2;
  if (kind == IouKind::kDiou) return diou;

  // CIoU: v measures aspect-ratio consistency; alpha trades it off against IoU (Zheng et al. 2020, eq. 9-11).
  constexpr float kFourOverPiSquared = 0.40528473456935108578f;  // 4 / pi^2
  const float t = std::atan(a.width() / a.height()) - std::atan(b.width() / b.height());
  const float v = kFourOverPiSquared * t * t;
  const float alpha = v / (1.f - iou + v + kIouEps);
  return diou - alpha * v;
}

}  // namespace

float overlap(const Box& a, const Box& b, IouKind kind) { return overlap_with_areas(a, area(a), b, area(b), kind); }

Matrix pairwise_overlap(const Boxes& a, const Boxes& b, IouKind kind) {
  Matrix m;
  m.rows = static_cast<int>(a.size());
  m.cols = static_cast<int>(b.size());
  m.data.resize(a.size() * b.size());
  std::vector<float> area_b(b.size());
  for (size_t j = 0; j < b.size(); ++j) area_b[j] = area(b[j]);
  for (size_t i = 0; i < a.size(); ++i) {
    const float area_a = area(a[i]);
    float* row = m.data.data() + i * b.size();
    for (size_t j = 0; j < b.size(); ++j) row[j] = overlap_with_areas(a[i], area_a, b[j], area_b[j], kind);
  }
  return m;
}

}  // namespace detlab
