// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// probe_receptive_field: gradient support of a layer's central cell on random inputs.
#include "viz/receptive_field.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>

#include <algorithm>
#include <array>

#include "core/error.h"

namespace detlab {

LayerGeometry probe_receptive_field(ScoreModel& model, const std::string& layer, const ReceptiveFieldOptions& opts) {
  model.require_layer(layer, "layer");
  DETLAB_REQUIRE(opts.min_probe >= 8 && opts.max_probe >= opts.min_probe && opts.samples >= 1, opts.min_probe,
                 opts.max_probe, opts.samples);
  model.module().eval();
  const int64_t div = std::max(1, model.transform().size_divisibility);
  at::Generator gen = at::detail::createCPUGenerator(opts.seed);  // a private stream: global RNG untouched
  LayerGeometry g;
  for (int64_t probe = padded_size(opts.min_probe, static_cast<int>(div));; probe *= 2) {
    torch::Tensor support;
    int64_t i0 = 0, j0 = 0, h = 0, w = 0;
    for (int s = 0; s < opts.samples; ++s) {
      torch::Tensor x = at::randn({1, 3, probe, probe}, gen, torch::kFloat).to(model.device());
      x.set_requires_grad(true);
      const torch::Tensor a = model.features(x).at(layer);
      h = a.size(2);
      w = a.size(3);
      i0 = h / 2;
      j0 = w / 2;
      g.channels = a.size(1);
      const torch::Tensor cell = a.select(0, 0).select(1, i0).select(1, j0).sum();
      const torch::Tensor grad = torch::autograd::grad({cell}, {x})[0];
      const torch::Tensor nz = grad.abs().sum(1)[0].ne(0).to(torch::kCPU);
      support = support.defined() ? support.logical_or(nz) : nz;
    }
    g.stride = std::max<int64_t>(1, probe / std::max<int64_t>(1, w));
    const torch::Tensor cols = support.any(0).nonzero(), rows = support.any(1).nonzero();
    if (cols.numel() == 0 || rows.numel() == 0) {  // a dead cell on every sample: keep the stride, assume centred
      g.offset = 0.5 * static_cast<double>(g.stride);
      g.size = g.stride;
      return g;
    }
    const int64_t x1 = cols.min().item<int64_t>(), x2 = cols.max().item<int64_t>();
    const int64_t y1 = rows.min().item<int64_t>(), y2 = rows.max().item<int64_t>();
    const bool clipped = x1 == 0 || y1 == 0 || x2 == probe - 1 || y2 == probe - 1;
    if (clipped && probe * 2 <= opts.max_probe) continue;
    // Pixel index x covers [x, x + 1): the support [x1, x2] is centred on (x1 + x2 + 1) / 2.
    const double cx = 0.5 * static_cast<double>(x1 + x2 + 1), cy = 0.5 * static_cast<double>(y1 + y2 + 1);
    const double ox = cx - static_cast<double>(g.stride * j0), oy = cy - static_cast<double>(g.stride * i0);
    g.offset = 0.5 * (ox + oy);  // the families here are symmetric in x and y
    g.size = std::max(x2 - x1 + 1, y2 - y1 + 1);
    return g;
  }
}

std::array<double, 4> receptive_window(const LayerGeometry& g, int64_t row, int64_t col) {
  const double cx = g.offset + static_cast<double>(g.stride * col), cy = g.offset + static_cast<double>(g.stride * row);
  const double half = 0.5 * static_cast<double>(g.size);
  return {cx - half, cy - half, cx + half, cy + half};
}

}  // namespace detlab
