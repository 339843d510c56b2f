// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Random scale / translate augmentation: affine_grid + grid_sample per image, the same map on the boxes.
#include "nn/detection/yolo_augment.h"

namespace detlab {

at::Tensor scale_translate_image(const at::Tensor& image, double s, double dx, double dy) {
  TORCH_CHECK(image.dim() == 3 && s > 0, "scale_translate_image: image 3 x h x w and s > 0 expected, got ",
              image.sizes(), " s=", s);
  const int64_t h = image.size(1), w = image.size(2);
  // Normalized coordinates (align_corners = false): x_n = 2 u / w - 1. The output at x_n samples the input at
  // (x_n - 2 dx / w) / s, the inverse of u' = s (u - w/2) + w/2 + dx.
  const at::Tensor theta = at::tensor({1.0 / s, 0.0, -2.0 * dx / (w * s), 0.0, 1.0 / s, -2.0 * dy / (h * s)},
                                      image.options().dtype(at::kFloat))
                               .view({1, 2, 3})
                               .to(image.dtype());
  const at::Tensor grid = at::affine_grid_generator(theta, {1, image.size(0), h, w}, /*align_corners=*/false);
  return at::grid_sampler(image.unsqueeze(0), grid, /*bilinear*/ 0, /*zeros*/ 0, /*align_corners=*/false).squeeze(0);
}

NetTarget scale_translate_target(const NetTarget& t, double s, double dx, double dy, int64_t height, int64_t width,
                                 double min_visible) {
  const at::Tensor boxes = t.boxes.to(at::kFloat).reshape({-1, 4});
  const double cx = width / 2.0, cy = height / 2.0;
  const at::Tensor offset =
      at::tensor({cx + dx, cy + dy, cx + dx, cy + dy}, boxes.options()) - s * at::tensor({cx, cy, cx, cy}, boxes.options());
  const at::Tensor moved = boxes * s + offset;
  const at::Tensor lo = at::zeros({4}, boxes.options());
  const at::Tensor hi = at::tensor({static_cast<double>(width), static_cast<double>(height),
                                    static_cast<double>(width), static_cast<double>(height)},
                                   boxes.options());
  const at::Tensor clipped = at::max(at::min(moved, hi), lo);
  auto area = [](const at::Tensor& b) { return (b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1)); };
  const at::Tensor keep = (area(clipped) >= min_visible * area(moved)) &
                          (clipped.select(1, 2) - clipped.select(1, 0) >= 1) &
                          (clipped.select(1, 3) - clipped.select(1, 1) >= 1);
  const at::Tensor idx = at::nonzero(keep).squeeze(1);
  return {clipped.index_select(0, idx), t.labels.index_select(0, idx.to(t.labels.device()))};
}

std::pair<at::Tensor, std::vector<NetTarget>> random_scale_translate(const at::Tensor& images,
                                                                      const std::vector<ImageSize>& sizes,
                                                                      const std::vector<NetTarget>& targets,
                                                                      const ScaleTranslateOptions& o) {
  TORCH_CHECK(images.dim() == 4 && static_cast<int64_t>(sizes.size()) == images.size(0) &&
                  targets.size() == sizes.size(),
              "random_scale_translate: ", images.sizes(), " images, ", sizes.size(), " sizes, ", targets.size(),
              " targets");
  at::Tensor out = images.clone();
  std::vector<NetTarget> moved;
  moved.reserve(targets.size());
  const at::Tensor u = at::rand({images.size(0), 3}, at::kDouble);  // CPU default generator: seeded, checkpointed
  for (size_t i = 0; i < sizes.size(); ++i) {
    const auto b = static_cast<int64_t>(i);
    const int64_t h = sizes[i][0], w = sizes[i][1];
    const double s = 1.0 + o.scale * (2 * u[b][0].item<double>() - 1);
    const double dx = o.translate * w * (2 * u[b][1].item<double>() - 1);
    const double dy = o.translate * h * (2 * u[b][2].item<double>() - 1);
    using at::indexing::Slice;
    at::Tensor region = out[b].index({Slice(), Slice(0, h), Slice(0, w)});
    region.copy_(scale_translate_image(images[b].index({Slice(), Slice(0, h), Slice(0, w)}), s, dx, dy));
    moved.push_back(scale_translate_target(targets[i], s, dx, dy, h, w, o.min_visible));
  }
  return {out, moved};
}

}  // namespace detlab
