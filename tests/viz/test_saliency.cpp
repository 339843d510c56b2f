// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Saliency: the input gradient equals central finite differences; SmoothGrad of zero noise equals vanilla.
#include "../train/catch_torch.h"

#include "viz/saliency.h"
#include "viz_test_models.h"

using namespace detlab;

TEST_CASE("input gradient equals a finite-difference gradient on a small model", "[viz][saliency]") {
  torch::manual_seed(3);
  test::TinyScoreModel model;
  const torch::Tensor x = torch::randn({1, 3, 9, 11}, torch::kDouble);
  for (int64_t target = 0; target < 3; ++target) {
    const torch::Tensor g = input_gradient(model, x, target).to(torch::kDouble);
    REQUIRE(g.sizes() == x.sizes());
    torch::NoGradGuard no_grad;
    const double eps = 1e-6;  // central differences in double: error ~ eps^2 * f''' + rounding / eps ~ 1e-10
    double max_err = 0, max_abs = 0;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 9; ++y)
        for (int64_t xx = 0; xx < 11; ++xx) {
          torch::Tensor p = x.clone(), m = x.clone();
          p[0][c][y][xx] += eps;
          m[0][c][y][xx] -= eps;
          const double fd = (model.forward(p, nullptr)[0][target].item<double>() -
                             model.forward(m, nullptr)[0][target].item<double>()) / (2 * eps);
          max_err = std::max(max_err, std::abs(fd - g[0][c][y][xx].item<double>()));
          max_abs = std::max(max_abs, std::abs(fd));
        }
    INFO("target " << target << " max |fd - grad| " << max_err << " max |fd| " << max_abs);
    REQUIRE(max_abs > 1e-4);  // the check is not vacuous
    REQUIRE(max_err < 1e-7 * std::max(1.0, max_abs));
  }
}

TEST_CASE("saliency is max over channels of |gradient|, batched gradients separate per image", "[viz][saliency]") {
  torch::manual_seed(4);
  test::TinyScoreModel model;
  const torch::Tensor x = torch::randn({3, 3, 8, 8}, torch::kDouble);
  const torch::Tensor g = input_gradient(model, x, 1);
  for (int64_t n = 0; n < 3; ++n) {
    const torch::Tensor single = input_gradient(model, x.narrow(0, n, 1), 1);
    REQUIRE(torch::allclose(g.narrow(0, n, 1), single, 1e-6, 1e-9));
  }
  SaliencyOptions o;
  o.target = 1;
  const Heatmap h = saliency(model, x.narrow(0, 0, 1), o);
  REQUIRE(h.grid == Heatmap::Grid::kInput);
  REQUIRE(h.target == 1);
  REQUIRE(torch::allclose(h.values, std::get<0>(g[0].abs().max(0)).to(torch::kFloat), 1e-5, 1e-8));
  // SmoothGrad with zero noise averages identical gradients: the vanilla map.
  o.samples = 5;
  o.noise = 0;
  const Heatmap s = saliency(model, x.narrow(0, 0, 1), o);
  REQUIRE(s.method == "smoothgrad");
  REQUIRE(torch::allclose(s.values, h.values, 1e-5, 1e-7));
  // With noise the map changes but stays finite and non-negative.
  o.noise = 0.2f;
  const Heatmap n = saliency(model, x.narrow(0, 0, 1), o);
  REQUIRE(!torch::allclose(n.values, h.values, 1e-3, 1e-6));
  REQUIRE(n.values.min().item<float>() >= 0);
}
