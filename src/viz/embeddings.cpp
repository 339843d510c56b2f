// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Region embeddings: RoIAlign over a tapped layer, or a crop classifier's pooled features.
#include "viz/embeddings.h"

#include <map>

#include "core/error.h"
#include "core/progress.h"
#include "nn/ops/roi_align.h"

namespace detlab {

Embeddings region_embeddings(ScoreModel& model, const Dataset& images, const std::vector<int>& indices,
                             const EmbeddingOptions& opts) {
  DETLAB_REQUIRE(opts.output_size >= 1, opts.output_size);
  const std::string layer = opts.layer.empty() ? model.default_layer() : opts.layer;
  model.require_layer(layer, "--layer");
  const LayerGeometry g = model.geometry(layer);
  Embeddings e;
  e.class_names = images.class_names;
  std::map<int, int> per_class;
  std::vector<torch::Tensor> rows;
  torch::NoGradGuard no_grad;
  model.module().eval();
  ProgressBar bar("embeddings", static_cast<int64_t>(indices.size()), "img");
  for (int idx : indices) {
    const ImageRecord& rec = images.images.at(static_cast<size_t>(idx));
    std::vector<float> boxes;
    for (const Object& o : rec.objects) {
      if (o.crowd) continue;
      if (opts.max_per_class > 0 && per_class[o.label] >= opts.max_per_class) continue;
      ++per_class[o.label];
      e.labels.push_back(o.label);
      boxes.insert(boxes.end(), {o.box.x1, o.box.y1, o.box.x2, o.box.y2});
    }
    if (!boxes.empty()) {
      const auto at = static_cast<size_t>(idx);
      const ModelInput in = make_input(images.load_image(at), model, images.images.at(at).name);
      const torch::Tensor map = model.features(in.tensor).at(layer);
      const int64_t k = static_cast<int64_t>(boxes.size() / 4);
      const torch::Tensor net = to_network(torch::tensor(boxes).view({k, 4}), in.meta);
      // RoIAlign (aligned) puts cell j's centre at (j + 0.5) * stride; the measured centre is offset + stride * j.
      const double shift = 0.5 * static_cast<double>(g.stride) - g.offset;
      const torch::Tensor rois = torch::cat({torch::zeros({k, 1}), net + shift}, 1).to(map.device(), map.scalar_type());
      RoiAlignOptions ro;
      ro.output_height = ro.output_width = opts.output_size;
      ro.spatial_scale = 1.0 / static_cast<double>(g.stride);
      ro.sampling_ratio = 2;  // torchvision's detection heads
      ro.aligned = true;
      rows.push_back(roi_align(map, rois, ro).mean({2, 3}).to(torch::kCPU, torch::kFloat));
    }
    bar.tick();
  }
  bar.finish();
  if (rows.empty()) throw InputError("", "--split", "no ground-truth boxes in the chosen images");
  e.features = torch::cat(rows).contiguous();
  return e;
}

Embeddings classifier_embeddings(const ClassifierView& classifier, const Dataset& images, const std::vector<int>& indices,
                                 int max_per_class, uint64_t seed) {
  Dataset subset = images.subset(indices);
  CropOptions co = classifier.crop;
  co.per_class = 0;
  const Dataset crops = make_crop_dataset(subset, co, seed, /*show_progress=*/true);
  Embeddings e;
  e.class_names = crops.class_names;
  std::map<int, int> per_class;
  std::vector<cv::Mat> pixels;
  for (size_t i = 0; i < crops.images.size(); ++i) {
    const int label = crop_label(crops.images[i]);
    if (max_per_class > 0 && per_class[label] >= max_per_class) continue;
    ++per_class[label];
    e.labels.push_back(label);
    pixels.push_back(crops.load_image(i));
  }
  if (pixels.empty()) throw InputError("", "--split", "no ground-truth boxes in the chosen images");
  torch::NoGradGuard no_grad;
  classifier.net->eval();
  const TransformOptions& t = classifier.crop_transform;
  std::vector<torch::Tensor> rows;
  constexpr size_t kBatch = 128;  // crops per forward pass
  for (size_t start = 0; start < pixels.size(); start += kBatch) {
    const std::vector<cv::Mat> part(pixels.begin() + static_cast<std::ptrdiff_t>(start),
                                    pixels.begin() + static_cast<std::ptrdiff_t>(std::min(pixels.size(), start + kBatch)));
    rows.push_back(
        classifier.net->forward(make_eval_batch(part, t).images.to(classifier.device)).embedding.to(torch::kCPU));
  }
  e.features = torch::cat(rows).to(torch::kFloat).contiguous();
  return e;
}

}  // namespace detlab
