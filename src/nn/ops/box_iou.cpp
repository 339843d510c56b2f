// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Pairwise IoU / GIoU, device-generic path: torchvision's broadcast formulation in ATen ops (differentiable).
#include "nn/ops/box_iou.h"

#include <ATen/core/grad_mode.h>

#include "nn/ops/boxes.h"

namespace detlab {
namespace {

/// torchvision's _upcast: half/bfloat16 -> float, small integers -> int32; float, double, int32, int64 kept.
at::Tensor upcast(const at::Tensor& t) {
  if (at::isFloatingType(t.scalar_type()))
    return (t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble) ? t : t.to(at::kFloat);
  return (t.scalar_type() == at::kInt || t.scalar_type() == at::kLong) ? t : t.to(at::kInt);
}

void check_pair(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  TORCH_CHECK(boxes1.dim() == 2 && boxes1.size(1) == 4, "box_iou: boxes1 must be N x 4, got ", boxes1.sizes());
  TORCH_CHECK(boxes2.dim() == 2 && boxes2.size(1) == 4, "box_iou: boxes2 must be M x 4, got ", boxes2.sizes());
  TORCH_CHECK(boxes1.device() == boxes2.device(), "box_iou: boxes must be on the same device, got ", boxes1.device(),
              " and ", boxes2.device());
}

/// Intersection and union, N x M (torchvision's _box_inter_union).
std::pair<at::Tensor, at::Tensor> inter_union(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  const at::Tensor area1 = box_area(boxes1), area2 = box_area(boxes2);
  const at::Tensor lt = at::maximum(boxes1.slice(1, 0, 2).unsqueeze(1), boxes2.slice(1, 0, 2));  // N x M x 2
  const at::Tensor rb = at::minimum(boxes1.slice(1, 2, 4).unsqueeze(1), boxes2.slice(1, 2, 4));
  const at::Tensor wh = upcast(rb - lt).clamp_min(0);
  const at::Tensor inter = wh.select(2, 0) * wh.select(2, 1);
  const at::Tensor uni = area1.unsqueeze(1) + area2 - inter;
  return {inter, uni};
}

}  // namespace

bool box_iou_uses_cpu_kernel(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  auto fits = [](const at::Tensor& b) {
    return b.device().is_cpu() && (b.scalar_type() == at::kFloat || b.scalar_type() == at::kDouble);
  };
  const bool wants_grad = at::GradMode::is_enabled() && (boxes1.requires_grad() || boxes2.requires_grad());
  return fits(boxes1) && fits(boxes2) && boxes1.scalar_type() == boxes2.scalar_type() && !wants_grad;
}

at::Tensor box_iou_generic(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  check_pair(boxes1, boxes2);
  const auto [inter, uni] = inter_union(boxes1, boxes2);
  return inter / uni;
}

at::Tensor generalized_box_iou_generic(const at::Tensor& boxes1, const at::Tensor& boxes2) {
  check_pair(boxes1, boxes2);
  const auto [inter, uni] = inter_union(boxes1, boxes2);
  const at::Tensor iou = inter / uni;
  const at::Tensor lti = at::minimum(boxes1.slice(1, 0, 2).unsqueeze(1), boxes2.slice(1, 0, 2));
  const at::Tensor rbi = at::maximum(boxes1.slice(1, 2, 4).unsqueeze(1), boxes2.slice(1, 2, 4));
  const at::Tensor whi = upcast(rbi - lti).clamp_min(0);
  const at::Tensor areai = whi.select(2, 0) * whi.select(2, 1);
  return iou - (areai - uni) / areai;
}

}  // namespace detlab
