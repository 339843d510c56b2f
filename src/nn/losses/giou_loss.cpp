// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Generalized IoU loss: torchvision's expression, operation for operation (where() instead of masked assignment).
#include "nn/losses/giou_loss.h"

namespace detlab {
namespace {

at::Tensor upcast_non_float(const at::Tensor& t) {
  return (t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble) ? t : t.to(at::kFloat);
}

}  // namespace

at::Tensor generalized_box_iou_loss(const at::Tensor& boxes1_in, const at::Tensor& boxes2_in, Reduction reduction,
                                    double eps) {
  TORCH_CHECK(boxes1_in.sizes() == boxes2_in.sizes() && boxes1_in.dim() >= 1 && boxes1_in.size(-1) == 4,
              "generalized_box_iou_loss: boxes must have the same shape ... x 4, got ", boxes1_in.sizes(), " and ",
              boxes2_in.sizes());
  const at::Tensor boxes1 = upcast_non_float(boxes1_in), boxes2 = upcast_non_float(boxes2_in);
  const auto a = boxes1.unbind(-1), g = boxes2.unbind(-1);
  const at::Tensor &x1 = a[0], &y1 = a[1], &x2 = a[2], &y2 = a[3];
  const at::Tensor &x1g = g[0], &y1g = g[1], &x2g = g[2], &y2g = g[3];

  const at::Tensor xkis1 = at::maximum(x1, x1g), ykis1 = at::maximum(y1, y1g);
  const at::Tensor xkis2 = at::minimum(x2, x2g), ykis2 = at::minimum(y2, y2g);
  const at::Tensor overlaps = (ykis2 > ykis1) & (xkis2 > xkis1);
  const at::Tensor intsctk = at::where(overlaps, (xkis2 - xkis1) * (ykis2 - ykis1), at::zeros_like(x1));
  const at::Tensor unionk = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk;
  const at::Tensor iouk = intsctk / (unionk + eps);

  const at::Tensor xc1 = at::minimum(x1, x1g), yc1 = at::minimum(y1, y1g);
  const at::Tensor xc2 = at::maximum(x2, x2g), yc2 = at::maximum(y2, y2g);
  const at::Tensor area_c = (xc2 - xc1) * (yc2 - yc1);
  const at::Tensor miouk = iouk - ((area_c - unionk) / (area_c + eps));
  const at::Tensor loss = 1 - miouk;
  if (reduction == Reduction::kMean) return loss.numel() > 0 ? loss.mean() : 0.0 * loss.sum();
  return reduce(loss, reduction);
}

}  // namespace detlab
