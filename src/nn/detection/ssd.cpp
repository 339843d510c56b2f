// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Ssd (see ssd.h): forward, torchvision's loss and post-processing.
#include "nn/detection/ssd.h"

#include <chrono>
#include <tuple>

namespace detlab {
namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

SsdOptions ssd300_options(int64_t num_classes) {
  SsdOptions o;
  o.num_classes = num_classes;
  o.anchors = ssd300_default_boxes();
  return o;
}

SsdOptions ssdlite320_options(int64_t num_classes) {
  SsdOptions o;
  o.num_classes = num_classes;
  o.anchors = ssdlite320_default_boxes();
  o.head = SsdHeadOptions::Kind::kLite;
  o.post.score_thresh = 0.001;  // torchvision's ssdlite320 defaults (COCO evaluation keeps low scores)
  o.post.nms_thresh = 0.55;
  o.post.topk_candidates = 300;
  o.post.detections_per_img = 300;
  return o;
}

Ssd::Ssd(std::shared_ptr<Backbone> backbone, const SsdOptions& o)
    : options_(o), backbone_(std::move(backbone)), anchors_(o.anchors), coder_(o.box_weights) {
  TORCH_CHECK(backbone_ != nullptr, "Ssd: backbone is null");
  TORCH_CHECK(o.num_classes >= 1, "Ssd: num_classes must be >= 1, got ", o.num_classes);
  TORCH_CHECK(o.iou_thresh > 0 && o.iou_thresh <= 1, "Ssd: iou_thresh must be in (0, 1], got ", o.iou_thresh);
  const auto shapes = backbone_->output_shape();
  map_names_ = features_by_stride(shapes);
  TORCH_CHECK(map_names_.size() == anchors_.num_maps(), "Ssd: the backbone gives ", map_names_.size(),
              " feature maps but the default boxes are configured for ", anchors_.num_maps());
  register_module("backbone", backbone_);
  SsdHeadOptions h;
  h.kind = o.head;
  h.norm = o.head_norm;
  h.num_classes = o.num_classes + 1;
  h.num_anchors = anchors_.num_anchors_per_location();
  for (const auto& name : map_names_) h.in_channels.push_back(shapes.at(name).channels);
  head_ = register_module("head", SsdHead(h));
}

Ssd::Outputs Ssd::forward(const torch::Tensor& images, NetTimes* times) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "Ssd: expected N x 3 x H x W images, got ", images.sizes());
  auto t = std::chrono::steady_clock::now();
  Outputs out;
  auto maps = backbone_->forward(images);
  for (const auto& name : map_names_) out.features.push_back(maps.at(name));
  if (times) times->emplace_back("backbone", ms_since(t));
  t = std::chrono::steady_clock::now();
  out.head = head_->forward(out.features);
  out.anchors = anchors_.forward(images, out.features);
  if (times) times->emplace_back("head", ms_since(t));
  return out;
}

std::vector<NetDetections> Ssd::postprocess(const Outputs& out, const std::vector<ImageSize>& image_sizes) const {
  return ssd_postprocess(out.head.cls_logits, out.head.bbox_regression, out.anchors, image_sizes, coder_,
                             options_.post);
}

std::vector<NetDetections> Ssd::detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                       NetTimes* times) {
  TORCH_CHECK(static_cast<int64_t>(image_sizes.size()) == images.size(0), "Ssd::detect: ", image_sizes.size(),
              " image sizes for ", images.size(0), " images");
  const Outputs out = forward(images, times);
  const auto t = std::chrono::steady_clock::now();
  std::vector<NetDetections> dets = postprocess(out, image_sizes);
  for (auto& d : dets) d.labels = d.labels - 1;  // torchvision's column k is our class k - 1
  if (times) times->emplace_back("post", ms_since(t));
  return dets;
}

std::map<std::string, torch::Tensor> Ssd::losses(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                                 const std::vector<NetTarget>& targets) {
  TORCH_CHECK(static_cast<int64_t>(targets.size()) == images.size(0), "Ssd::losses: ", targets.size(),
              " targets for ", images.size(0), " images");
  // Default boxes span the whole (fixed-size) batch tensor, as in torchvision; image_sizes bound the augmentation.
  torch::Tensor input = images;
  std::vector<NetTarget> augmented;
  if (is_training() && options_.augment.enabled())
    std::tie(input, augmented) = random_ssd_augment(images, image_sizes, targets, options_.augment);
  const Outputs out = forward(input);
  std::vector<torch::Tensor> boxes, labels, matched;
  for (const NetTarget& t : augmented.empty() ? targets : augmented) {
    const torch::Tensor b = t.boxes.to(images.device(), torch::kFloat);
    boxes.push_back(b);
    labels.push_back(t.labels.to(images.device(), torch::kLong) + 1);  // background is column 0
    matched.push_back(ssd_match(b, out.anchors, options_.iou_thresh));
  }
  return ssd_loss(out.head.cls_logits, out.head.bbox_regression, out.anchors, boxes, labels, matched, coder_,
                      options_.loss);
}

}  // namespace detlab
