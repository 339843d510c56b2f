// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Heat map alignment: layer cells and input pixels back onto the original image.
#include "viz/heatmap.h"

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
