// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// activations: one forward pass, the chosen channels of one tap.
#include "viz/activations.h"

#include <algorithm>

#include "core/error.h"
#include "viz/render.h"

namespace detlab {

ActivationMaps activations(ScoreModel& model, const torch::Tensor& input, const ActivationOptions& opts) {
  DETLAB_REQUIRE(input.dim() == 4 && input.size(0) >= 1 && opts.max_channels >= 1, input.sizes(), opts.max_channels);
  ActivationMaps r;
  r.layer = opts.layer.empty() ? model.default_layer() : opts.layer;
  model.require_layer(r.layer, "--layer");
  torch::NoGradGuard no_grad;
  model.module().eval();
  const torch::Tensor a = model.features(input.narrow(0, 0, 1)).at(r.layer)[0].to(torch::kCPU, torch::kFloat);
  const int64_t c = a.size(0);
  if (opts.channels.empty()) {
    const int64_t k = std::min<int64_t>(opts.max_channels, c);
    const torch::Tensor order = std::get<1>(a.mean({1, 2}).topk(k));
    for (int64_t i = 0; i < k; ++i) r.channels.push_back(order[i].item<int64_t>());
  } else {
    for (int64_t ch : opts.channels) {
      if (ch < 0 || ch >= c)
        throw InputError("", "--channels", "channel " + std::to_string(ch) + " out of range: layer " + r.layer +
                                              " has " + std::to_string(c) + " channels");
      r.channels.push_back(ch);
    }
  }
  r.maps = a.index_select(0, torch::tensor(r.channels, torch::kLong)).contiguous();
  r.mean.method = "activation";
  r.mean.grid = Heatmap::Grid::kLayer;
  r.mean.layer = r.layer;
  r.mean.values = a.mean(0).contiguous();
  return r;
}

cv::Mat render_activation_grid(const ActivationMaps& a, int tile, int cols) {
  DETLAB_REQUIRE(a.maps.dim() == 3 && a.maps.size(0) == static_cast<int64_t>(a.channels.size()), a.maps.sizes());
  double lo = 0, hi = a.maps.max().item<double>();
  lo = std::min(lo, a.maps.min().item<double>());  // layers before a ReLU can be negative
  if (!(hi > lo)) hi = lo + 1;
  std::vector<cv::Mat> tiles;
  std::vector<std::string> captions;
  for (size_t i = 0; i < a.channels.size(); ++i) {
    tiles.push_back(apply_colormap(to_mat(a.maps[static_cast<int64_t>(i)]), lo, hi, Colormap::kViridis));
    captions.push_back("ch " + std::to_string(a.channels[i]));
  }
  const cv::Mat grid = tile_grid(tiles, captions, cols, tile);
  const cv::Mat bar = render_colorbar(grid.rows, lo, hi, Colormap::kViridis, "activation");
  cv::Mat out(grid.rows, grid.cols + 8 + bar.cols, CV_8UC3, cv::Scalar(255, 255, 255));
  grid.copyTo(out(cv::Rect(0, 0, grid.cols, grid.rows)));
  bar.copyTo(out(cv::Rect(grid.cols + 8, 0, bar.cols, bar.rows)));
  return out;
}

}  // namespace detlab
