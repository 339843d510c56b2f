// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// HostBoxCoder: R-CNN box deltas (dx, dy, dw, dh) between two Boxes, for the classical stages and the staged
// post-processing; BoxCoder (nn/modeling/box_coder.h) is the same map on tensors, torchvision's.
#pragma once

#include <array>
#include <cmath>

#include "core/types.h"

namespace detlab {

/// Box-delta parameterisation of R-CNN (Girshick et al. 2014, appendix C), as in detectron2's Box2BoxTransform:
///   dx = wx (gx - px) / pw,  dy = wy (gy - py) / ph,  dw = ww log(gw / pw),  dh = wh log(gh / ph)
/// with centres (x, y) and sizes (w, h); weights (wx, wy, ww, wh) rescale the targets (Fast R-CNN heads use
/// (10, 10, 5, 5); ridge regressors on classical features use (1, 1, 1, 1)).
struct HostBoxCoder {
  std::array<float, 4> weights{1.f, 1.f, 1.f, 1.f};
  /// dw / dh are clamped before exp() so a wild prediction cannot overflow: log(1000 / 16) as in detectron2.
  float scale_clamp = 4.135166556742356f;

  /// requires: reference has positive width and height; target too.
  std::array<float, 4> encode(const Box& reference, const Box& target) const;
  /// Inverse of encode() (up to the clamp).
  Box decode(const Box& reference, const float* deltas) const;
};

}  // namespace detlab
