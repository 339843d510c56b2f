// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// build_yolo: YAML -> YoloDetectorOptions -> backbone + YoloV1 -> NetworkDetector.
#include "detectors/yolo.h"

#include <algorithm>

#include "config/checked.h"
#include "core/error.h"
#include "detectors/network_config.h"

namespace detlab {

namespace {

NetworkDetectorOptions yolo_defaults() {
  NetworkDetectorOptions d;
  d.transform.fixed_width = d.transform.fixed_height = 448;  // the paper's input
  d.transform.size_divisibility = 1;                         // the fixed size is the tensor size
  return d;
}

}  // namespace

YoloDetectorOptions parse_yolo(const Config& node, const std::vector<std::string>& class_names) {
  YoloDetectorOptions o;
  o.net = parse_network_detector(node, class_names, yolo_defaults());
  const TransformOptions& t = o.net.transform;
  if (t.fixed_width <= 0 || t.fixed_height <= 0)
    config_error(node, "input", "YOLO needs a fixed input size (input.fixed_size), as the grid spans the whole image");
  if (padded_size(t.fixed_width, t.size_divisibility) != t.fixed_width ||
      padded_size(t.fixed_height, t.size_divisibility) != t.fixed_height)
    config_error(node, "input", "fixed_size must be a multiple of size_divisibility (padding would shift the grid)");
  if (o.net.train.loader.jitter_min != 1.f || o.net.train.loader.jitter_max != 1.f)
    config_error(node, "train", "scale jitter changes the input size, which YOLO's grid does not allow");

  if (node.has("backbone")) {
    const Config b = node.child("backbone");
    parse_backbone_node(b, &o.backbone, &o.backbone_options);
    o.feature = b.get<std::string>("feature", o.feature);
  }
  YoloV1Options& m = o.model;
  m.num_classes = static_cast<int64_t>(class_names.size());
  m.head.grid_size = get_positive(node, "grid_size", m.head.grid_size);
  m.head.num_boxes = get_positive(node, "num_boxes", m.head.num_boxes);
  if (node.has("head")) {
    const Config h = node.child("head");
    m.head.hidden_channels = get_positive(h, "hidden_channels", m.head.hidden_channels);
    m.head.num_convs = h.get<int64_t>("num_convs", m.head.num_convs);
    m.head.fc_hidden = h.get<int64_t>("fc_hidden", m.head.fc_hidden);
    m.head.dropout = h.get<double>("dropout", m.head.dropout);
    m.head.batch_norm = h.get<bool>("batch_norm", m.head.batch_norm);
    m.head.leaky_slope = h.get<double>("leaky_slope", m.head.leaky_slope);
    if (m.head.num_convs < 0) config_error(h, "num_convs", "must be >= 0");
    if (m.head.fc_hidden < 0) config_error(h, "fc_hidden", "must be >= 0 (0: a 1x1 convolution per cell)");
    if (!(m.head.dropout >= 0 && m.head.dropout < 1)) config_error(h, "dropout", "must be in [0, 1)");
  }
  if (node.has("loss")) {
    const Config l = node.child("loss");
    m.loss.lambda_coord = l.get<double>("lambda_coord", m.loss.lambda_coord);
    m.loss.lambda_noobj = l.get<double>("lambda_noobj", m.loss.lambda_noobj);
    m.loss.lambda_class = l.get<double>("lambda_class", m.loss.lambda_class);
    m.loss.rescore = l.get<bool>("rescore", m.loss.rescore);
    m.loss.one_object_per_cell = l.get<bool>("one_object_per_cell", m.loss.one_object_per_cell);
    if (!(m.loss.lambda_coord >= 0)) config_error(l, "lambda_coord", "must be >= 0");
    if (!(m.loss.lambda_noobj >= 0)) config_error(l, "lambda_noobj", "must be >= 0");
    if (!(m.loss.lambda_class >= 0)) config_error(l, "lambda_class", "must be >= 0");
  }
  m.score_thresh = node.get<double>("score_thresh", m.score_thresh);
  m.nms_iou = node.get<double>("nms_iou", m.nms_iou);
  m.pre_nms_top_k = get_positive(node, "pre_nms_top_k", m.pre_nms_top_k);
  m.detections_per_img = o.net.max_per_image;
  if (!(m.score_thresh >= 0 && m.score_thresh < 1)) config_error(node, "score_thresh", "must be in [0, 1)");
  if (!(m.nms_iou > 0 && m.nms_iou <= 1)) config_error(node, "nms_iou", "must be in (0, 1]");
  if (m.num_classes <= 0) config_error(node, "type", "the data set has no classes");
  if (node.has("augment")) o.model.augment = parse_scale_translate(node.child("augment"), o.model.augment);
  return o;
}

std::unique_ptr<NetworkDetector> make_yolo(const YoloDetectorOptions& o) {
  BackboneOptions bo = o.backbone_options;
  std::string feature = o.feature;
  if (feature == "auto") {
    // The deepest map whose shorter side still has S cells (a coarser one would be stretched to the grid).
    BackboneOptions probe = bo;  // shapes only: skip the weights file
    probe.weights.clear();
    const auto shapes = make_backbone(o.backbone, probe)->output_shape();
    const std::vector<std::string> by_stride = features_by_stride(shapes);
    const int shorter = std::min(o.net.transform.fixed_width, o.net.transform.fixed_height);
    feature = by_stride.front();
    for (const std::string& f : by_stride) {
      const int64_t cells = (shorter + shapes.at(f).stride - 1) / shapes.at(f).stride;
      if (cells >= o.model.head.grid_size) feature = f;
    }
  }
  bo.out_features = {feature};
  YoloV1Options m = o.model;
  m.feature = feature;
  auto model = std::make_shared<YoloV1>(make_backbone(o.backbone, bo), m);
  return std::make_unique<NetworkDetector>(model, o.net);
}

std::unique_ptr<Detector> build_yolo(const Config& node, BuildContext& ctx) {
  const YoloDetectorOptions o = parse_yolo(node, ctx.class_names);
  return build_reporting_errors(node, o.backbone_options.weights, [&] { return make_yolo(o); });
}

}  // namespace detlab
