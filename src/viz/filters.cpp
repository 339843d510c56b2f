// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// First-layer filters and their grid.
#include "viz/filters.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "viz/render.h"

namespace detlab {

FilterBank first_layer_filters(const torch::nn::Module& module) {
  for (const auto& p : module.named_parameters(/*recurse=*/true)) {
    const torch::Tensor& w = p.value();
    if (w.dim() == 4 && w.size(1) == 3) return {p.key(), w.detach().to(torch::kCPU, torch::kFloat).contiguous()};
  }
  throw InputError("", "model", "no convolution over 3 input channels (the image) among its parameters");
}

cv::Mat render_filters(const FilterBank& bank, const TransformOptions& transform, int tile, int cols) {
  const torch::Tensor& w = bank.weight;
  DETLAB_REQUIRE(w.dim() == 4 && w.size(1) == 3, w.sizes());
  const int64_t n = w.size(0);
  if (cols <= 0) cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  std::vector<cv::Mat> tiles;
  std::vector<std::string> captions;
  for (int64_t k = 0; k < n; ++k) {
    torch::Tensor kernel = w[k];  // 3 x kh x kw, input channel order of the network
    const double m = kernel.abs().max().item<double>();
    torch::Tensor u8 = (kernel / (m > 0 ? m : 1.0) * 127.0 + 128.0).round().clamp(0, 255).to(torch::kUInt8);
    if (transform.to_rgb) u8 = u8.flip({0});  // the network sees RGB planes; the screen wants BGR
    u8 = u8.permute({1, 2, 0}).contiguous();
    cv::Mat t(static_cast<int>(u8.size(0)), static_cast<int>(u8.size(1)), CV_8UC3);
    std::memcpy(t.data, u8.data_ptr<uint8_t>(), static_cast<size_t>(u8.numel()));
    tiles.push_back(t);
    captions.push_back(format_number(kernel.norm().item<double>()));
  }
  return tile_grid(tiles, captions, cols, tile);
}

}  // namespace detlab
