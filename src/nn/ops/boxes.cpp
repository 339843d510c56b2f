// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Elementwise box utilities on tensors, written with torchvision's operations (any device, differentiable).
#include "nn/ops/boxes.h"

namespace detlab {
namespace {

void check_last_dim(const char* op, const at::Tensor& boxes) {
  TORCH_CHECK(boxes.dim() >= 1 && boxes.size(-1) == 4, op, ": boxes must be ... x 4, got ", boxes.sizes());
}

}  // namespace

at::Tensor box_area(const at::Tensor& boxes) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "box_area: boxes must be K x 4, got ", boxes.sizes());
  at::Tensor b = boxes;
  if (at::isFloatingType(b.scalar_type()) && b.scalar_type() != at::kFloat && b.scalar_type() != at::kDouble)
    b = b.to(at::kFloat);  // torchvision's _upcast
  else if (!at::isFloatingType(b.scalar_type()) && b.scalar_type() != at::kInt && b.scalar_type() != at::kLong)
    b = b.to(at::kInt);
  return (b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1));
}

at::Tensor clip_boxes_to_image(const at::Tensor& boxes, int64_t height, int64_t width) {
  check_last_dim("clip_boxes_to_image", boxes);
  TORCH_CHECK(height >= 0 && width >= 0, "clip_boxes_to_image: image size must be >= 0, got ", height, " x ", width);
  const at::Tensor x = boxes.slice(-1, 0, 4, 2).clamp(0, width);
  const at::Tensor y = boxes.slice(-1, 1, 4, 2).clamp(0, height);
  return at::stack({x, y}, boxes.dim()).reshape(boxes.sizes());
}

at::Tensor remove_small_boxes(const at::Tensor& boxes, double min_size) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "remove_small_boxes: boxes must be K x 4, got ", boxes.sizes());
  const at::Tensor ws = boxes.select(1, 2) - boxes.select(1, 0);
  const at::Tensor hs = boxes.select(1, 3) - boxes.select(1, 1);
  return at::where((ws >= min_size) & (hs >= min_size))[0];
}

at::Tensor box_convert(const at::Tensor& boxes, std::string_view in_fmt, std::string_view out_fmt) {
  check_last_dim("box_convert", boxes);
  auto known = [](std::string_view f) { return f == "xyxy" || f == "xywh" || f == "cxcywh"; };
  TORCH_CHECK(known(in_fmt) && known(out_fmt), "box_convert: formats must be xyxy, xywh or cxcywh, got ",
              std::string(in_fmt), " -> ", std::string(out_fmt));
  if (in_fmt == out_fmt) return boxes.clone();
  const auto c = boxes.unbind(-1);
  at::Tensor xyxy;  // corners first, then the requested format (torchvision's two-step conversion)
  if (in_fmt == "xyxy") {
    xyxy = boxes;
  } else if (in_fmt == "xywh") {
    xyxy = at::stack({c[0], c[1], c[0] + c[2], c[1] + c[3]}, -1);
  } else {
    xyxy = at::stack({c[0] - 0.5 * c[2], c[1] - 0.5 * c[3], c[0] + 0.5 * c[2], c[1] + 0.5 * c[3]}, -1);
  }
  if (out_fmt == "xyxy") return xyxy;
  const auto e = xyxy.unbind(-1);
  if (out_fmt == "xywh") return at::stack({e[0], e[1], e[2] - e[0], e[3] - e[1]}, -1);
  return at::stack({(e[0] + e[2]) / 2, (e[1] + e[3]) / 2, e[2] - e[0], e[3] - e[1]}, -1);
}

}  // namespace detlab
