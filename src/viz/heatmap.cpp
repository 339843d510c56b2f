// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Heat map alignment: layer cells and input pixels back onto the original image.
#include "viz/heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace detlab {

cv::Mat to_mat(const torch::Tensor& values) {
  DETLAB_REQUIRE(values.dim() == 2, values.dim());
  const torch::Tensor v = values.detach().to(torch::kCPU, torch::kFloat).contiguous();
  cv::Mat m(static_cast<int>(v.size(0)), static_cast<int>(v.size(1)), CV_32F);
  std::memcpy(m.data, v.data_ptr<float>(), sizeof(float) * static_cast<size_t>(v.numel()));
  return m;
}

torch::Tensor region_cells_map(const cv::Mat& cells, const Box& grid, int64_t height, int64_t width) {
  DETLAB_REQUIRE(cells.type() == CV_32F && !cells.empty() && height > 0 && width > 0, cells.type(), height, width);
  const double cw = (grid.x2 - grid.x1) / cells.cols, ch = (grid.y2 - grid.y1) / cells.rows;
  DETLAB_REQUIRE(cw > 0 && ch > 0, "empty cell grid", grid.x1, grid.y1, grid.x2, grid.y2);
  torch::Tensor out = torch::zeros({height, width}, torch::kFloat);
  float* o = out.data_ptr<float>();
  const int x0 = std::max(0, static_cast<int>(std::floor(grid.x1))), x1 = std::min<int>(width, std::ceil(grid.x2));
  const int y0 = std::max(0, static_cast<int>(std::floor(grid.y1))), y1 = std::min<int>(height, std::ceil(grid.y2));
  for (int y = y0; y < y1; ++y) {
    // The pixel's centre in cell units, measured from the first cell's centre; clamped to the outer centres.
    const double v = std::clamp((y + 0.5 - grid.y1) / ch - 0.5, 0.0, cells.rows - 1.0);
    const int r0 = static_cast<int>(v), r1 = std::min(r0 + 1, cells.rows - 1);
    const double fy = v - r0;
    for (int x = x0; x < x1; ++x) {
      if (x + 0.5 < grid.x1 || x + 0.5 > grid.x2 || y + 0.5 < grid.y1 || y + 0.5 > grid.y2) continue;
      const double u = std::clamp((x + 0.5 - grid.x1) / cw - 0.5, 0.0, cells.cols - 1.0);
      const int c0 = static_cast<int>(u), c1 = std::min(c0 + 1, cells.cols - 1);
      const double fx = u - c0;
      const double val = (1 - fy) * ((1 - fx) * cells.at<float>(r0, c0) + fx * cells.at<float>(r0, c1)) +
                         fy * ((1 - fx) * cells.at<float>(r1, c0) + fx * cells.at<float>(r1, c1));
      o[static_cast<int64_t>(y) * width + x] = static_cast<float>(std::max(0.0, val));
    }
  }
  return out;
}

cv::Mat layer_map_to_image(const torch::Tensor& values, const LayerGeometry& g, const ImageMeta& meta) {
  DETLAB_REQUIRE(meta.orig_width > 0 && meta.orig_height > 0 && meta.scale_x > 0 && meta.scale_y > 0,
                 meta.orig_width, meta.orig_height, meta.scale_x, meta.scale_y);
  DETLAB_REQUIRE(!meta.flipped, "visualization inputs are never mirrored");
  const cv::Mat src = to_mat(values);
  // Original pixel X (centre X + 0.5) sits at network coordinate (X + 0.5) * scale, which is cell
  // ((X + 0.5) * scale - offset) / stride: one inverse affine map, one interpolation.
  const double s = static_cast<double>(g.stride);
  const cv::Mat m = (cv::Mat_<double>(2, 3) << meta.scale_x / s, 0, (0.5 * meta.scale_x - g.offset) / s,  //
                     0, meta.scale_y / s, (0.5 * meta.scale_y - g.offset) / s);
  cv::Mat out;
  cv::warpAffine(src, out, m, cv::Size(meta.orig_width, meta.orig_height), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_REPLICATE);
  return out;
}

cv::Mat input_map_to_image(const torch::Tensor& values, const ImageMeta& meta) {
  DETLAB_REQUIRE(values.dim() == 2 && values.size(0) >= meta.height && values.size(1) >= meta.width,
                 values.sizes(), meta.height, meta.width);
  DETLAB_REQUIRE(!meta.flipped, "visualization inputs are never mirrored");
  const cv::Mat valid = to_mat(values)(cv::Rect(0, 0, meta.width, meta.height));
  if (meta.width == meta.orig_width && meta.height == meta.orig_height) return valid.clone();
  cv::Mat out;
  // Shrinking a pixel-level map (saliency, occlusion) averages it, as the network's own resize would not alias.
  const bool shrink = meta.orig_width < meta.width || meta.orig_height < meta.height;
  cv::resize(valid, out, cv::Size(meta.orig_width, meta.orig_height), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

cv::Mat heatmap_to_image(const Heatmap& map, ScoreModel& model, const ImageMeta& meta) {
  if (map.grid == Heatmap::Grid::kInput) return input_map_to_image(map.values, meta);
  return layer_map_to_image(map.values, model.geometry(map.layer), meta);
}

}  // namespace detlab
