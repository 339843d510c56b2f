// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// cam: the linear layer's weights applied to every cell of the pooled map.
#include "viz/cam.h"

#include "core/error.h"

namespace detlab {

Heatmap cam(ScoreModel& model, const torch::Tensor& input, int64_t target) {
  DETLAB_REQUIRE(input.dim() == 4 && input.size(0) >= 1, input.sizes());
  const GapLinear* gl = model.gap_linear();
  if (gl == nullptr)
    throw InputError("", "method", "CAM needs a network that ends in global average pooling + one linear layer "
                                   "(a classifier); use grad-cam for detectors");
  torch::NoGradGuard no_grad;
  model.module().eval();
  TapMap maps;
  const torch::Tensor scores = model.forward(input.narrow(0, 0, 1), &maps);
  Heatmap h;
  h.method = "cam";
  h.grid = Heatmap::Grid::kLayer;
  h.layer = gl->layer;
  h.target = target >= 0 ? target : scores[0].argmax().item<int64_t>();
  DETLAB_REQUIRE(h.target < scores.size(1), h.target, scores.size(1));
  h.target_name = model.score_names().at(static_cast<size_t>(h.target));
  h.score = scores[0][h.target].item<double>();
  const torch::Tensor a = maps.at(gl->layer)[0];  // C x h x w
  const torch::Tensor w = gl->weight[h.target].to(a.dtype());
  h.values = (w.view({-1, 1, 1}) * a).sum(0).to(torch::kCPU, torch::kFloat).contiguous();
  return h;
}

}  // namespace detlab
