// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Input gradients, vanilla saliency and SmoothGrad.
#include "viz/saliency.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>

#include <algorithm>

#include "core/error.h"

namespace detlab {

torch::Tensor input_gradient(ScoreModel& model, const torch::Tensor& input, int64_t target) {
  DETLAB_REQUIRE(input.dim() == 4 && input.size(0) >= 1, input.sizes());
  model.module().eval();
  torch::AutoGradMode grad_on(true);
  torch::Tensor x = input.detach().requires_grad_(true);
  const torch::Tensor scores = model.forward(x, nullptr);
  DETLAB_REQUIRE(target >= 0 && target < scores.size(1), target, scores.size(1));
  return torch::autograd::grad({scores.select(1, target).sum()}, {x})[0].to(torch::kFloat);
}

Heatmap saliency(ScoreModel& model, const torch::Tensor& input, const SaliencyOptions& opts) {
  DETLAB_REQUIRE(opts.samples >= 0 && opts.batch >= 1 && opts.noise >= 0, opts.samples, opts.batch, opts.noise);
  const torch::Tensor x = input.narrow(0, 0, 1).detach();
  const TargetScore t = resolve_target(model, x, opts.target);
  Heatmap h;
  h.method = opts.samples > 0 ? "smoothgrad" : "saliency";
  h.grid = Heatmap::Grid::kInput;
  h.target = t.target;
  h.target_name = model.score_names().at(static_cast<size_t>(t.target));
  h.score = t.score;
  torch::Tensor grad;
  if (opts.samples == 0) {
    grad = input_gradient(model, x, t.target)[0];
  } else {
    const double sigma = opts.noise * (x.max() - x.min()).item<double>();
    at::Generator gen = at::detail::createCPUGenerator(opts.seed);
    grad = torch::zeros_like(x[0], torch::kFloat);
    for (int done = 0; done < opts.samples;) {
      const int n = std::min(opts.batch, opts.samples - done);
      const torch::Tensor noise = at::randn({n, x.size(1), x.size(2), x.size(3)}, gen, torch::kFloat) * sigma;
      grad += input_gradient(model, x.expand({n, -1, -1, -1}) + noise.to(x.device(), x.scalar_type()), t.target)
                  .sum(0);
      done += n;
    }
    grad /= static_cast<double>(opts.samples);
  }
  h.values = std::get<0>(grad.abs().max(0)).to(torch::kCPU, torch::kFloat).contiguous();
  return h;
}

}  // namespace detlab
