// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Test helper: deterministic random inputs for the ops tests (feature maps, RoIs, boxes) from a seeded generator.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

namespace detlab::test {

inline at::Generator seeded(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

/// K x 4 boxes (x1, y1, x2, y2): corners uniform in [lo, hi], sizes uniform in [min_size, max_size].
inline at::Tensor random_boxes(at::Generator& gen, int64_t k, double lo, double hi, double min_size, double max_size,
                               at::ScalarType dtype = at::kFloat) {
  const auto opt = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor xy = at::rand({k, 2}, gen, opt) * (hi - lo) + lo;
  const at::Tensor wh = at::rand({k, 2}, gen, opt) * (max_size - min_size) + min_size;
  return at::cat({xy, xy + wh}, 1).to(dtype);
}

/// K x 5 RoIs (batch_index, x1, y1, x2, y2) over `batch` images of an image_h x image_w input, with the first
/// three malformed on purpose: inverted, zero-size, entirely outside.
inline at::Tensor random_rois(at::Generator& gen, int64_t k, int64_t batch, double image_h, double image_w,
                              at::ScalarType dtype = at::kFloat) {
  const double extent = std::max(image_h, image_w);
  at::Tensor boxes = random_boxes(gen, k, -0.15 * extent, 1.05 * extent, 0.0, 0.6 * extent, at::kDouble);
  if (k >= 3) {
    boxes[0] = at::tensor({0.45 * image_w, 0.3 * image_h, 0.15 * image_w, 0.1 * image_h}, at::kDouble);
    boxes[1] = at::tensor({0.2 * image_w, 0.2 * image_h, 0.2 * image_w, 0.2 * image_h}, at::kDouble);
    boxes[2] = at::tensor({-0.5 * image_w, -0.5 * image_h, -0.3 * image_w, -0.35 * image_h}, at::kDouble);
  }
  const at::Tensor idx = at::randint(0, batch, {k, 1}, gen, at::TensorOptions().dtype(at::kDouble));
  return at::cat({idx, boxes}, 1).to(dtype);
}

}  // namespace detlab::test
