// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// grad_cam: one forward with taps, one backward to the tapped layer.
#include "viz/grad_cam.h"

#include <torch/autograd.h>

#include "core/error.h"

namespace detlab {

Heatmap grad_cam(ScoreModel& model, const torch::Tensor& input, const GradCamOptions& opts) {
  DETLAB_REQUIRE(input.dim() == 4 && input.size(0) >= 1, input.sizes());
  const std::string layer = opts.layer.empty() ? model.default_layer() : opts.layer;
  model.require_layer(layer, "layer");
  model.module().eval();
  torch::AutoGradMode grad_on(true);
  // The input joins the graph so that every tap does, even behind frozen (requires_grad = false) stages.
  torch::Tensor x = input.narrow(0, 0, 1).detach().requires_grad_(true);
  TapMap maps;
  const torch::Tensor scores = model.forward(x, &maps);
  const torch::Tensor a = maps.at(layer);
  Heatmap h;
  h.method = "grad_cam";
  h.grid = Heatmap::Grid::kLayer;
  h.layer = layer;
  h.target = opts.target >= 0 ? opts.target : scores[0].detach().argmax().item<int64_t>();
  DETLAB_REQUIRE(h.target < scores.size(1), h.target, scores.size(1));
  h.target_name = model.score_names().at(static_cast<size_t>(h.target));
  const torch::Tensor y = scores[0][h.target];
  h.score = y.item<double>();
  torch::Tensor g = torch::autograd::grad({y}, {a}, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                          /*create_graph=*/false, /*allow_unused=*/true)[0];
  if (!g.defined()) g = torch::zeros_like(a);  // the score does not depend on this layer (another FPN level)
  const torch::Tensor alpha = g.mean({2, 3}, /*keepdim=*/true);
  h.values = torch::relu((alpha * a.detach()).sum(1))[0].to(torch::kCPU, torch::kFloat).contiguous();
  return h;
}

}  // namespace detlab
