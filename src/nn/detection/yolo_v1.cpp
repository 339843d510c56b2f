// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// YoloV1: forward, target building and loss, grid decoding with class-specific scores and per-class NMS.
#include "nn/detection/yolo_v1.h"

#include <chrono>

#include "nn/ops/boxes.h"
#include "nn/ops/nms.h"

namespace detlab {

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

YoloV1::YoloV1(std::shared_ptr<Backbone> backbone, YoloV1Options opts) : opts_(std::move(opts)) {
  TORCH_CHECK(backbone != nullptr, "YoloV1: null backbone");
  TORCH_CHECK(opts_.num_classes > 0, "YoloV1: num_classes must be positive, got ", opts_.num_classes);
  TORCH_CHECK(opts_.nms_iou > 0 && opts_.nms_iou <= 1 && opts_.score_thresh >= 0 && opts_.pre_nms_top_k > 0 &&
                  opts_.detections_per_img > 0,
              "YoloV1: nms_iou=", opts_.nms_iou, " score_thresh=", opts_.score_thresh,
              " pre_nms_top_k=", opts_.pre_nms_top_k, " detections_per_img=", opts_.detections_per_img);
  const auto shapes = backbone->output_shape();
  feature_ = opts_.feature.empty() ? features_by_stride(shapes).back() : opts_.feature;
  const auto it = shapes.find(feature_);
  TORCH_CHECK(it != shapes.end(), "YoloV1: the backbone has no output '", feature_, "'");
  YoloV1HeadOptions h = opts_.head;
  h.in_channels = it->second.channels;
  h.num_classes = opts_.num_classes;
  opts_.head = h;
  backbone_ = register_module("backbone", std::move(backbone));
  head_ = register_module("head", YoloV1Head(h));
}

torch::Tensor YoloV1::forward(const torch::Tensor& images, NetTimes* times) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "YoloV1: images must be N x 3 x H x W, got ", images.sizes());
  auto start = std::chrono::steady_clock::now();
  const torch::Tensor features = backbone_->forward(images).at(feature_);
  if (times) times->emplace_back("backbone", ms_since(start));
  start = std::chrono::steady_clock::now();
  torch::Tensor pred = head_(features);
  if (times) times->emplace_back("head", ms_since(start));
  return pred;
}

void YoloV1::check_sizes(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes) const {
  TORCH_CHECK(static_cast<int64_t>(image_sizes.size()) == images.size(0), "YoloV1: ", image_sizes.size(),
              " image sizes for a batch of ", images.size(0));
  for (const ImageSize& s : image_sizes) {
    TORCH_CHECK(s[0] == images.size(2) && s[1] == images.size(3),
                "YoloV1: the grid spans the input tensor, so each "
                "image must fill it (a fixed input size without padding); image (",
                s[0], ", ", s[1], ") in a ", images.size(2), " x ", images.size(3), " tensor");
  }
}

YoloV1::Decoded YoloV1::decode(const torch::Tensor& pred, int64_t height, int64_t width) const {
  const int64_t s = opts_.head.grid_size, b = opts_.head.num_boxes, c = opts_.num_classes;
  TORCH_CHECK(pred.dim() == 3 && pred.size(0) == s && pred.size(1) == s && pred.size(2) == 5 * b + c,
              "YoloV1: one image's predictions must be ", s, " x ", s, " x ", 5 * b + c, ", got ", pred.sizes());
  using torch::indexing::Slice;
  const torch::Tensor boxes = pred.index({"...", Slice(0, 5 * b)}).reshape({s, s, b, 5});
  const auto opts = pred.options();
  const torch::Tensor cols = torch::arange(s, opts).view({1, s, 1});
  const torch::Tensor rows = torch::arange(s, opts).view({s, 1, 1});
  const torch::Tensor cx = (cols + boxes.select(-1, 0)) / s * width;
  const torch::Tensor cy = (rows + boxes.select(-1, 1)) / s * height;
  const torch::Tensor w = boxes.select(-1, 2).pow(2) * width;
  const torch::Tensor h = boxes.select(-1, 3).pow(2) * height;
  torch::Tensor xyxy = torch::stack({cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2}, -1).reshape({s * s * b, 4});
  xyxy = clip_boxes_to_image(xyxy, height, width);
  const torch::Tensor confidence = boxes.select(-1, 4).reshape({s * s * b}).clamp(0, 1);
  const torch::Tensor class_prob =
      pred.index({"...", Slice(5 * b, torch::indexing::None)}).clamp(0, 1).unsqueeze(2).expand({s, s, b, c});
  return {xyxy, confidence, class_prob.reshape({s * s * b, c})};
}

std::vector<NetDetections> YoloV1::detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                          NetTimes* times) {
  check_sizes(images, image_sizes);
  const torch::Tensor pred = forward(images, times);
  const auto start = std::chrono::steady_clock::now();
  const int64_t c = opts_.num_classes;
  std::vector<NetDetections> out;
  for (int64_t i = 0; i < pred.size(0); ++i) {
    const Decoded d = decode(pred[i].to(torch::kFloat), image_sizes[i][0], image_sizes[i][1]);
    // Class-specific confidence per (box, class), as equation 1 of the paper.
    const torch::Tensor scores = (d.class_prob * d.confidence.unsqueeze(1)).flatten();
    torch::Tensor keep = torch::nonzero(scores > opts_.score_thresh).squeeze(1);
    torch::Tensor s = scores.index_select(0, keep);
    if (s.numel() > opts_.pre_nms_top_k) {
      const torch::Tensor top = std::get<1>(s.topk(opts_.pre_nms_top_k));
      keep = keep.index_select(0, top);
      s = s.index_select(0, top);
    }
    const torch::Tensor box_idx = torch::div(keep, c, "floor");
    const torch::Tensor labels = keep.remainder(c);
    torch::Tensor boxes = d.boxes.index_select(0, box_idx);
    // Boxes clipped to nothing (outside the image) cannot be detections.
    const torch::Tensor valid = torch::nonzero(box_area(boxes) > 0).squeeze(1);
    boxes = boxes.index_select(0, valid);
    s = s.index_select(0, valid);
    torch::Tensor l = labels.index_select(0, valid);
    torch::Tensor kept = batched_nms(boxes, s, l, opts_.nms_iou);
    if (kept.numel() > opts_.detections_per_img) kept = kept.slice(0, 0, opts_.detections_per_img);
    out.push_back({boxes.index_select(0, kept), s.index_select(0, kept), l.index_select(0, kept)});
  }
  if (times) times->emplace_back("post", ms_since(start));
  return out;
}

std::map<std::string, torch::Tensor> YoloV1::losses(const torch::Tensor& images,
                                                    const std::vector<ImageSize>& image_sizes,
                                                    const std::vector<NetTarget>& targets) {
  check_sizes(images, image_sizes);
  TORCH_CHECK(targets.size() == image_sizes.size(), "YoloV1: ", targets.size(), " targets for ", image_sizes.size(),
              " images");
  torch::Tensor input = images;
  std::vector<NetTarget> boxes_px = targets;
  if (is_training() && opts_.augment.enabled()) {
    std::tie(input, boxes_px) = random_scale_translate(images, image_sizes, targets, opts_.augment);
  }
  const torch::Tensor pred = forward(input);
  std::vector<YoloTarget> yt;
  yt.reserve(boxes_px.size());
  for (size_t i = 0; i < boxes_px.size(); ++i) {
    const double h = static_cast<double>(image_sizes[i][0]), w = static_cast<double>(image_sizes[i][1]);
    const torch::Tensor boxes = boxes_px[i].boxes.to(torch::kCPU, torch::kFloat).reshape({-1, 4});
    yt.push_back({boxes / torch::tensor({w, h, w, h}, boxes.options()), boxes_px[i].labels});
  }
  const YoloV1Targets t = build_yolo_v1_targets(pred, yt, opts_.head.num_boxes, opts_.loss);
  return yolo_v1_loss(pred, t, opts_.head.num_boxes, opts_.loss);
}

}  // namespace detlab
