// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoI poolers (see box_roi_pool.h): torchvision's poolers.py operations in the same order.
#include "nn/heads/box_roi_pool.h"

#include <cmath>

#include "nn/ops/boxes.h"
#include "nn/ops/roi_align.h"
#include "nn/ops/roi_pool.h"

namespace detlab {

namespace {

/// LevelMapper's epsilon: keeps a box of exactly 224 * 2^k px at level canonical + k despite log2 rounding.
constexpr double kLevelMapperEps = 1e-6;

void check_pool_args(const char* who, const torch::Tensor& images, const std::vector<torch::Tensor>& boxes,
                     const std::vector<ImageSize>& image_sizes) {
  TORCH_CHECK(boxes.size() == image_sizes.size(), who, ": ", boxes.size(), " box lists for ", image_sizes.size(),
              " image sizes");
  TORCH_CHECK(!images.defined() || images.size(0) == static_cast<int64_t>(boxes.size()), who, ": ", boxes.size(),
              " box lists for a batch of ", images.size(0));
  for (const torch::Tensor& b : boxes)
    TORCH_CHECK(b.dim() == 2 && b.size(1) == 4, who, ": boxes must be K x 4, got ", b.sizes());
}

const torch::Tensor& feature(const std::map<std::string, torch::Tensor>& features, const std::string& name,
                             const char* who) {
  const auto it = features.find(name);
  TORCH_CHECK(it != features.end(), who, ": the backbone gives no feature map '", name, "'");
  return it->second;
}

}  // namespace

torch::Tensor boxes_to_rois(const std::vector<torch::Tensor>& boxes) {
  TORCH_CHECK(!boxes.empty(), "boxes_to_rois: no images");
  std::vector<torch::Tensor> rows;
  for (size_t i = 0; i < boxes.size(); ++i)
    rows.push_back(torch::cat({torch::full({boxes[i].size(0), 1}, static_cast<double>(i), boxes[i].options()),
                               boxes[i]}, 1));
  return torch::cat(rows, 0);
}

torch::Tensor map_levels(const torch::Tensor& boxes, int64_t k_min, int64_t k_max, int64_t canonical_scale,
                         int64_t canonical_level) {
  const torch::Tensor s = torch::sqrt(box_area(boxes));
  const torch::Tensor eps = torch::full({}, kLevelMapperEps, s.options());  // torch.tensor(eps, dtype=s.dtype)
  const torch::Tensor lvl =
      torch::floor(static_cast<double>(canonical_level) + torch::log2(s / static_cast<double>(canonical_scale)) + eps);
  return lvl.clamp(static_cast<double>(k_min), static_cast<double>(k_max)).to(torch::kLong) - k_min;
}

double infer_scale(int64_t feature_size, int64_t image_size) {
  const double approx = static_cast<double>(feature_size) / static_cast<double>(image_size);
  // torch.tensor(approx_scale) is float32: log2 and round (half to even) in float32, then 2 ** float in double.
  const double e = torch::full({}, approx, torch::kFloat).log2().round().item<double>();
  return std::pow(2.0, e);
}

MultiScaleRoiAlign::MultiScaleRoiAlign(const MultiScaleRoiAlignOptions& o, int64_t channels)
    : options_(o), channels_(channels) {
  TORCH_CHECK(!o.featmap_names.empty(), "MultiScaleRoiAlign: featmap_names is empty");
  TORCH_CHECK(channels > 0 && o.output_size > 0, "MultiScaleRoiAlign: channels and output_size must be positive");
  TORCH_CHECK(o.canonical_scale > 0, "MultiScaleRoiAlign: canonical_scale must be positive");
}

std::vector<int64_t> MultiScaleRoiAlign::output_shape() const {
  return {channels_, options_.output_size, options_.output_size};
}

torch::Tensor MultiScaleRoiAlign::forward(const std::map<std::string, torch::Tensor>& features,
                                              const torch::Tensor& images, const std::vector<torch::Tensor>& boxes,
                                              const std::vector<ImageSize>& image_sizes) {
  check_pool_args("MultiScaleRoiAlign", images, boxes, image_sizes);
  std::vector<torch::Tensor> maps;
  for (const std::string& name : options_.featmap_names) maps.push_back(feature(features, name, "MultiScaleRoiAlign"));
  // _setup_scales: the largest unpadded image side of the batch, per axis; the height decides the scale.
  int64_t max_h = 0, max_w = 0;
  for (const ImageSize& s : image_sizes) {
    max_h = std::max(max_h, s[0]);
    max_w = std::max(max_w, s[1]);
  }
  std::vector<double> scales;
  for (const torch::Tensor& m : maps) scales.push_back(infer_scale(m.size(-2), max_h));
  const torch::Tensor rois = boxes_to_rois(boxes).to(maps[0].scalar_type());
  RoiAlignOptions ra;
  ra.output_height = ra.output_width = options_.output_size;
  ra.sampling_ratio = options_.sampling_ratio;
  ra.aligned = options_.aligned;
  if (maps.size() == 1) {
    ra.spatial_scale = scales[0];
    return roi_align(maps[0], rois, ra);
  }
  const auto log2f = [](double s) { return -torch::full({}, s, torch::kFloat).log2().item<float>(); };
  const int64_t k_min = static_cast<int64_t>(log2f(scales.front()));  // Python int(): truncation
  const int64_t k_max = static_cast<int64_t>(log2f(scales.back()));
  const torch::Tensor levels =
      map_levels(rois.slice(1, 1, 5), k_min, k_max, options_.canonical_scale, options_.canonical_level);
  torch::Tensor result = torch::zeros({rois.size(0), maps[0].size(1), options_.output_size, options_.output_size},
                                      maps[0].options());
  for (size_t l = 0; l < maps.size(); ++l) {
    const torch::Tensor idx = torch::where(levels == static_cast<int64_t>(l))[0];
    if (idx.numel() == 0) continue;  // torchvision pools an empty set here; nothing to write
    ra.spatial_scale = scales[l];
    result.index_put_({idx}, roi_align(maps[l], rois.index_select(0, idx), ra).to(result.scalar_type()));
  }
  return result;
}

RoiMaxPool::RoiMaxPool(const RoiMaxPoolOptions& o, int64_t channels) : options_(o), channels_(channels) {
  TORCH_CHECK(!o.featmap.empty(), "RoiMaxPool: featmap is empty");
  TORCH_CHECK(channels > 0 && o.output_size > 0 && o.stride > 0, "RoiMaxPool: channels (", channels,
              "), output_size (", o.output_size, ") and stride (", o.stride, ") must be positive");
}

std::vector<int64_t> RoiMaxPool::output_shape() const {
  return {channels_, options_.output_size, options_.output_size};
}

torch::Tensor RoiMaxPool::forward(const std::map<std::string, torch::Tensor>& features,
                                      const torch::Tensor& images, const std::vector<torch::Tensor>& boxes,
                                      const std::vector<ImageSize>& image_sizes) {
  check_pool_args("RoiMaxPool", images, boxes, image_sizes);
  const torch::Tensor& map = feature(features, options_.featmap, "RoiMaxPool");
  RoiPoolOptions rp;
  rp.output_height = rp.output_width = options_.output_size;
  rp.spatial_scale = 1.0 / static_cast<double>(options_.stride);
  return roi_pool(map, boxes_to_rois(boxes).to(map.scalar_type()), rp);
}

}  // namespace detlab
