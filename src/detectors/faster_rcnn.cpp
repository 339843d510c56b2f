// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// build_faster_rcnn: YAML -> FasterRcnnDetectorOptions -> backbone + FasterRCNN -> NetworkDetector.
#include "detectors/faster_rcnn.h"

#include <algorithm>

#include "config/checked.h"
#include "classifiers/fast_rcnn_head.h"
#include "core/error.h"
#include "features/backbone.h"
#include "pipeline/torch_stage.h"
#include "proposals/rpn.h"

namespace detlab {

namespace {

/// Predictor columns (background first) and the label map for the data set's classes.
void map_classes(const Config& node, const std::vector<std::string>& class_names, FasterRcnnOptions& m) {
  m.label_map.clear();
  if (!node.has("model_classes")) {
    m.num_classes = static_cast<int64_t>(class_names.size()) + 1;
    return;
  }
  const Config c = node.child("model_classes");
  std::vector<std::string> columns;
  if (c.is_scalar()) {
    const std::string s = c.as<std::string>();
    if (s != "coco") config_error(node, "model_classes", "expected coco or a list of class names, got '" + s + "'");
    columns = coco_category_names();
  } else {
    columns = {"__background__"};
    for (const std::string& n : c.as<std::vector<std::string>>()) columns.push_back(n);
  }
  m.num_classes = static_cast<int64_t>(columns.size());
  for (const std::string& name : class_names) {
    const auto it = std::find(columns.begin() + 1, columns.end(), name);
    if (it == columns.end()) {
      config_error(node, "model_classes", "the model has no class '" + name + "' of the data set");
    }
    m.label_map.push_back(static_cast<int64_t>(it - columns.begin()));
  }
}

}  // namespace

FasterRcnnDetectorOptions parse_faster_rcnn(const Config& node, const std::vector<std::string>& class_names) {
  FasterRcnnDetectorOptions o;
  const NetworkDetectorOptions defaults;  // torchvision's transform (800 / 1333) and the engine's defaults
  o.net = parse_network_detector(node, class_names, defaults);
  o.net.weights_load.rename = faster_rcnn_legacy_renames();
  // torchvision's fasterrcnn_resnet50_fpn backbone unless the node says otherwise.
  o.backbone_options.norm = NormKind::kFrozenBatchNorm;
  o.backbone_options.trainable_layers = 3;
  o.backbone_options.fpn = FpnOptions{};
  if (node.has("backbone")) {
    const Config b = node.child("backbone");
    o.backbone = parse_backbone_type(b, o.backbone);
    BackboneOptions parsed = parse_backbone_options(b);
    if (!b.has("norm")) parsed.norm = o.backbone_options.norm;
    if (!b.has("trainable_layers")) parsed.trainable_layers = o.backbone_options.trainable_layers;
    if (!b.has("fpn")) parsed.fpn = o.backbone_options.fpn;
    o.backbone_options = parsed;
  }
  FasterRcnnOptions& m = o.model;
  map_classes(node, class_names, m);
  if (node.has("rpn")) {
    const RpnStageOptions r = parse_rpn(node.child("rpn"));
    if (!r.model.empty()) config_error(node.child("rpn"), "model", "a faster_rcnn detector trains its own RPN");
    m.rpn = r.rpn;
    m.rpn_features = r.in_features;
    o.rpn_anchors_given = r.anchors_given;
    o.rpn_anchor_sizes_flat = r.anchor_sizes_flat;
  }
  if (node.has("box_roi_pool")) {
    const Config p = node.child("box_roi_pool");
    m.box_roi_pool.featmap_names = p.get<std::vector<std::string>>("featmaps", m.box_roi_pool.featmap_names);
    m.box_roi_pool.output_size = p.get<int64_t>("output_size", m.box_roi_pool.output_size);
    m.box_roi_pool.sampling_ratio = p.get<int64_t>("sampling_ratio", m.box_roi_pool.sampling_ratio);
    m.box_roi_pool.canonical_scale = p.get<int64_t>("canonical_scale", m.box_roi_pool.canonical_scale);
    m.box_roi_pool.canonical_level = p.get<int64_t>("canonical_level", m.box_roi_pool.canonical_level);
    if (m.box_roi_pool.featmap_names.empty()) config_error(p, "featmaps", "must name at least one map");
    if (m.box_roi_pool.output_size <= 0) config_error(p, "output_size", "must be positive");
  }
  m.representation_size = node.get<int64_t>("representation_size", m.representation_size);
  if (m.representation_size <= 0) config_error(node, "representation_size", "must be positive");
  if (node.has("roi_heads")) {
    const Config h = node.child("roi_heads");
    if (h.has("sampling")) m.roi_heads = parse_roi_sampling(h.child("sampling"), m.roi_heads);
    m.roi_heads.box_loss_beta = h.get<double>("box_loss_beta", m.roi_heads.box_loss_beta);
    m.roi_heads.score_thresh = h.get<double>("score_thresh", m.roi_heads.score_thresh);
    m.roi_heads.nms_thresh = h.get<double>("nms_iou", m.roi_heads.nms_thresh);
    if (!(m.roi_heads.score_thresh >= 0 && m.roi_heads.score_thresh < 1)) {
      config_error(h, "score_thresh", "must be in [0, 1)");
    }
    if (!(m.roi_heads.nms_thresh > 0 && m.roi_heads.nms_thresh <= 1)) config_error(h, "nms_iou", "must be in (0, 1]");
  }
  m.roi_heads.detections_per_img = o.net.max_per_image;
  return o;
}

std::unique_ptr<NetworkDetector> make_faster_rcnn(const FasterRcnnDetectorOptions& o) {
  std::shared_ptr<Backbone> backbone = make_backbone(o.backbone, o.backbone_options);
  FasterRcnnOptions m = o.model;
  // Anchors and RPN maps follow the backbone, as for the rpn stage (one code path for both).
  std::map<std::string, FeatureShape> shapes;
  for (const auto& [name, s] : backbone->output_shape()) shapes[name] = FeatureShape{s.channels, s.stride};
  RpnStageOptions r;
  r.rpn = m.rpn;
  r.in_features = m.rpn_features;
  r.anchors_given = o.rpn_anchors_given;
  r.anchor_sizes_flat = o.rpn_anchor_sizes_flat;
  r = complete_rpn_options(r, shapes, "", "detector.rpn");
  m.rpn = r.rpn;
  m.rpn_features = r.in_features;
  auto model = std::make_shared<FasterRCNN>(backbone, m);
  return std::make_unique<NetworkDetector>(model, o.net);
}

std::unique_ptr<Detector> build_faster_rcnn(const Config& node, BuildContext& ctx) {
  const FasterRcnnDetectorOptions o = parse_faster_rcnn(node, ctx.class_names);
  return with_config_errors(node, [&] { return make_faster_rcnn(o); });
}

}  // namespace detlab
