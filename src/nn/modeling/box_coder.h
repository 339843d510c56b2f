// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// BoxCoder: the R-CNN box parameterisation (Girshick et al. 2014, appendix C), torchvision det_utils.BoxCoder.
#pragma once

#include <torch/types.h>

#include <array>
#include <cmath>
#include <vector>

namespace detlab {

/// Largest log-scale delta decode() applies: boxes grow at most 1000/16 = 62.5x (Detectron's _DEFAULT_SCALE_CLAMP).
inline const double kBboxXformClip = std::log(1000.0 / 16.0);

/// Delta weights (wx, wy, ww, wh) of the common heads.
constexpr std::array<double, 4> kRpnBoxWeights = {1.0, 1.0, 1.0, 1.0};        // torchvision RPN
constexpr std::array<double, 4> kRoiHeadBoxWeights = {10.0, 10.0, 5.0, 5.0};  // Fast/Faster R-CNN box head

/// What this represents: the map between a box and its deltas relative to a reference box,
///   dx = wx (gx - px) / pw,  dy = wy (gy - py) / ph,  dw = ww log(gw / pw),  dh = wh log(gh / ph)
/// with centres (x, y) and sizes (w, h) of the target g and the reference p. Numerically identical to
/// torchvision's BoxCoder (same operations in the same order). Thread safety: immutable after construction.
class BoxCoder {
 public:
  explicit BoxCoder(std::array<double, 4> weights = kRpnBoxWeights, double bbox_xform_clip = kBboxXformClip);

  /// requires: reference_boxes (targets) and proposals K x 4 (x1, y1, x2, y2), same dtype and device,
  ///           proposals with positive width and height.
  /// ensures:  K x 4 deltas (dx, dy, dw, dh).
  at::Tensor encode_single(const at::Tensor& reference_boxes, const at::Tensor& proposals) const;
  /// Per-image lists: concatenated, encoded, split back (sizes of reference_boxes).
  std::vector<at::Tensor> encode(const std::vector<at::Tensor>& reference_boxes,
                                 const std::vector<at::Tensor>& proposals) const;

  /// requires: rel_codes K x 4A (A box predictions per reference box, e.g. one per class), boxes K x 4.
  /// ensures:  K x 4A decoded boxes (x1, y1, x2, y2) in rel_codes' dtype; dw, dh clamped at bbox_xform_clip.
  at::Tensor decode_single(const at::Tensor& rel_codes, const at::Tensor& boxes) const;
  /// Per-image reference boxes concatenated; rel_codes reshaped to (sum K) x -1; returns (sum K) x A x 4.
  at::Tensor decode(const at::Tensor& rel_codes, const std::vector<at::Tensor>& boxes) const;

  const std::array<double, 4>& weights() const { return weights_; }
  double bbox_xform_clip() const { return bbox_xform_clip_; }

 private:
  std::array<double, 4> weights_;
  double bbox_xform_clip_;
};

}  // namespace detlab
