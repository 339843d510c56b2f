// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RetinaNet (see retinanet.h): forward and torchvision's post-processing.
#include "nn/detection/retinanet.h"

#include <chrono>
#include <cmath>

#include "nn/ops/box_iou.h"
#include "nn/ops/boxes.h"
#include "nn/ops/nms.h"

namespace detlab {
namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

AnchorGeneratorOptions retinanet_anchors(const std::vector<double>& base_sizes, int scales_per_octave,
                                             const std::vector<double>& aspect_ratios) {
  TORCH_CHECK(!base_sizes.empty() && scales_per_octave >= 1 && !aspect_ratios.empty(),
              "retinanet_anchors: need base sizes, scales_per_octave >= 1 and aspect ratios");
  AnchorGeneratorOptions o;
  o.sizes.clear();
  for (double x : base_sizes) {
    std::vector<double> level;
    for (int i = 0; i < scales_per_octave; ++i) {
      // Python's int(x * 2 ** (i / n)): truncation (40.3 -> 40, 50.8 -> 50), as torchvision's _default_anchorgen.
      level.push_back(std::trunc(x * std::pow(2.0, static_cast<double>(i) / scales_per_octave)));
    }
    o.sizes.push_back(level);
  }
  o.aspect_ratios = {aspect_ratios};
  return o;
}

RetinaNet::RetinaNet(std::shared_ptr<Backbone> backbone, const RetinaNetOptions& o)
    : options_(o), backbone_(std::move(backbone)), anchors_(o.anchors), coder_(o.box_weights) {
  TORCH_CHECK(backbone_ != nullptr, "RetinaNet: backbone is null");
  TORCH_CHECK(o.num_classes >= 1, "RetinaNet: num_classes must be >= 1, got ", o.num_classes);
  const auto shapes = backbone_->output_shape();
  map_names_ = features_by_stride(shapes);
  const auto per_location = anchors_.num_anchors_per_location();
  TORCH_CHECK(map_names_.size() == per_location.size(), "RetinaNet: the backbone gives ", map_names_.size(),
              " maps but the anchors are configured for ", per_location.size(), " levels");
  for (size_t l = 0; l < map_names_.size(); ++l) {
    TORCH_CHECK(shapes.at(map_names_[l]).channels == shapes.at(map_names_[0]).channels,
                "RetinaNet: every map must have the same channels (an FPN); map ", map_names_[l], " has ",
                shapes.at(map_names_[l]).channels);
    TORCH_CHECK(per_location[l] == per_location[0], "RetinaNet: every level needs the same number of anchors");
  }
  register_module("backbone", backbone_);
  RetinaNetHeadOptions h;
  h.in_channels = shapes.at(map_names_[0]).channels;
  h.num_anchors = per_location[0];
  h.num_classes = o.num_classes;
  h.num_convs = o.head_convs;
  h.prior_probability = o.prior_probability;
  h.norm = o.head_norm;
  head_ = register_module("head", RetinaNetHead(h));
}

RetinaNet::Outputs RetinaNet::forward(const torch::Tensor& images, NetTimes* times) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "RetinaNet: expected N x 3 x H x W images, got ",
              images.sizes());
  auto t = std::chrono::steady_clock::now();
  Outputs out;
  auto maps = backbone_->forward(images);
  for (const auto& name : map_names_) out.features.push_back(maps.at(name));
  if (times) times->emplace_back("backbone", ms_since(t));
  t = std::chrono::steady_clock::now();
  out.head = head_->forward(out.features);
  std::vector<std::array<int64_t, 2>> grid, strides;
  for (const auto& f : out.features) {
    grid.push_back({f.size(2), f.size(3)});
    strides.push_back({images.size(2) / f.size(2), images.size(3) / f.size(3)});  // floor, as torchvision
  }
  out.anchors = anchors_.grid_anchors(grid, strides, out.features[0].options());
  if (times) times->emplace_back("head", ms_since(t));
  return out;
}

std::vector<NetDetections> RetinaNet::postprocess(const Outputs& out, const std::vector<ImageSize>& image_sizes) const {
  const int64_t k = options_.num_classes;
  std::vector<NetDetections> dets;
  for (size_t i = 0; i < image_sizes.size(); ++i) {
    const auto n = static_cast<int64_t>(i);
    std::vector<torch::Tensor> boxes, scores, labels;
    for (size_t l = 0; l < out.anchors.size(); ++l) {
      const torch::Tensor logits = out.head.cls_logits[l][n];
      torch::Tensor s = torch::sigmoid(logits).flatten();
      const torch::Tensor keep = s > options_.score_thresh;
      s = s.masked_select(keep);
      torch::Tensor idx = torch::where(keep)[0];
      const auto top = s.topk(std::min<int64_t>(options_.topk_candidates, idx.size(0)));
      idx = idx.index_select(0, std::get<1>(top));
      const torch::Tensor anchor_idx = torch::div(idx, k, "floor");
      torch::Tensor b = coder_.decode_single(out.head.bbox_regression[l][n].index_select(0, anchor_idx),
                                             out.anchors[l].index_select(0, anchor_idx));
      boxes.push_back(clip_boxes_to_image(b, image_sizes[i][0], image_sizes[i][1]));
      scores.push_back(std::get<0>(top));
      labels.push_back(torch::remainder(idx, k));
    }
    const torch::Tensor b = torch::cat(boxes), s = torch::cat(scores), lab = torch::cat(labels);
    torch::Tensor keep = batched_nms(b, s, lab, options_.nms_thresh);
    keep = keep.slice(0, 0, std::min<int64_t>(keep.size(0), options_.detections_per_img));
    dets.push_back({b.index_select(0, keep), s.index_select(0, keep), lab.index_select(0, keep)});
  }
  return dets;
}

std::vector<NetDetections> RetinaNet::detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                             NetTimes* times) {
  TORCH_CHECK(static_cast<int64_t>(image_sizes.size()) == images.size(0), "RetinaNet::detect: ", image_sizes.size(),
              " image sizes for ", images.size(0), " images");
  const Outputs out = forward(images, times);
  const auto t = std::chrono::steady_clock::now();
  auto dets = postprocess(out, image_sizes);
  if (times) times->emplace_back("post", ms_since(t));
  return dets;
}

std::map<std::string, torch::Tensor> RetinaNet::losses(const torch::Tensor& images,
                                                       const std::vector<ImageSize>& image_sizes,
                                                       const std::vector<NetTarget>& targets) {
  TORCH_CHECK(static_cast<int64_t>(targets.size()) == images.size(0), "RetinaNet::losses: ", targets.size(),
              " targets for ", images.size(0), " images");
  (void)image_sizes;  // anchors cover the padded tensor, as in torchvision
  const Outputs out = forward(images);
  const torch::Tensor anchors = torch::cat(out.anchors);
  const Matcher matcher(options_.matcher);
  std::vector<NetTarget> t;
  std::vector<torch::Tensor> matched;
  for (const NetTarget& target : targets) {
    t.push_back({target.boxes.to(images.device(), torch::kFloat), target.labels.to(images.device(), torch::kLong)});
    if (t.back().boxes.size(0) == 0) {
      matched.push_back(torch::full({anchors.size(0)}, -1, anchors.options().dtype(torch::kLong)));
    } else {
      matched.push_back(matcher(box_iou(t.back().boxes, anchors)));
    }
  }
  return retinanet_loss(torch::cat(out.head.cls_logits, 1), torch::cat(out.head.bbox_regression, 1), anchors, t,
                        matched, coder_, options_);
}

}  // namespace detlab
