// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Host box coding (R-CNN deltas).
#include "pipeline/host_box_coder.h"

#include <algorithm>

#include "core/error.h"

namespace detlab {

std::array<float, 4> HostBoxCoder::encode(const Box& p, const Box& g) const {
  DETLAB_REQUIRE(p.width() > 0 && p.height() > 0, "reference box must have positive size", p.x1, p.y1, p.x2, p.y2);
  DETLAB_REQUIRE(g.width() > 0 && g.height() > 0, "target box must have positive size", g.x1, g.y1, g.x2, g.y2);
  return {weights[0] * (g.cx() - p.cx()) / p.width(), weights[1] * (g.cy() - p.cy()) / p.height(),
          weights[2] * std::log(g.width() / p.width()), weights[3] * std::log(g.height() / p.height())};
}

Box HostBoxCoder::decode(const Box& p, const float* d) const {
  const float dx = d[0] / weights[0], dy = d[1] / weights[1];
  const float dw = std::min(d[2] / weights[2], scale_clamp), dh = std::min(d[3] / weights[3], scale_clamp);
  const float cx = p.cx() + dx * p.width(), cy = p.cy() + dy * p.height();
  const float w = p.width() * std::exp(dw), h = p.height() * std::exp(dh);
  return {cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h};
}

}  // namespace detlab
