// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Occlusion: a model whose score is the mean of one region has its occlusion map peak exactly on that region.
#include "../train/catch_torch.h"

#include "core/error.h"
#include "viz/occlusion.h"
#include "viz_test_models.h"

using namespace detlab;

TEST_CASE("occlusion map of a region-mean score peaks exactly on the region", "[viz][occlusion]") {
  const int64_t y0 = 12, y1 = 20, x0 = 24, x1 = 32;  // an 8 x 8 region of a 40 x 48 input
  test::RegionMeanModel model(y0, y1, x0, x1);
  const torch::Tensor x = torch::ones({1, 3, 40, 48});
  OcclusionOptions o;
  o.size = 8;
  o.stride = 4;
  o.fill = OcclusionOptions::Fill::kMean;  // 0: a full cover drops the score from 1 to 0
  const OcclusionResult r = occlusion(model, x, 40, 48, o);
  REQUIRE(r.map.grid == Heatmap::Grid::kInput);
  REQUIRE(r.map.values.sizes() == torch::IntArrayRef({40, 48}));
  REQUIRE(r.drops.sizes() == torch::IntArrayRef({9, 11}));  // 0, 4, .., 32 and 0, 4, .., 40
  // The position covering exactly the region drops the score to 0, every other position less.
  const torch::Tensor best = r.drops.argmax();
  REQUIRE(r.ys[static_cast<size_t>(best.item<int64_t>() / 11)] == y0);
  REQUIRE(r.xs[static_cast<size_t>(best.item<int64_t>() % 11)] == x0);
  REQUIRE(r.drops.max().item<double>() == Approx(1.0));
  // Pixel map: its maximum is attained inside the region and nowhere outside it.
  const double peak = r.map.values.max().item<double>();
  const torch::Tensor inside = r.map.values.narrow(0, y0, y1 - y0).narrow(1, x0, x1 - x0);
  REQUIRE(inside.max().item<double>() == Approx(peak));
  torch::Tensor outside = r.map.values.clone();
  outside.narrow(0, y0, y1 - y0).narrow(1, x0, x1 - x0).fill_(-1);
  REQUIRE(outside.max().item<double>() < peak - 1e-6);
  // Far from the region nothing changes.
  REQUIRE(r.map.values[0][0].item<double>() == Approx(0.0).margin(1e-12));
}

TEST_CASE("occlusion covers the valid region only, with a flush last position", "[viz][occlusion]") {
  test::RegionMeanModel model(0, 30, 0, 30);
  const torch::Tensor x = torch::ones({1, 3, 32, 32});
  OcclusionOptions o;
  o.size = 8;
  o.stride = 8;
  o.fill = OcclusionOptions::Fill::kBlack;
  const OcclusionResult r = occlusion(model, x, 30, 30, o);  // 2 px of padding on the right / bottom
  REQUIRE(r.ys == std::vector<int64_t>{0, 8, 16, 22});
  REQUIRE(r.map.values.narrow(0, 30, 2).abs().max().item<double>() == 0);
  REQUIRE(r.map.values.narrow(0, 0, 30).narrow(1, 0, 30).min().item<double>() > 0);
  REQUIRE_THROWS_AS(parse_fill("grey"), InputError);
}
