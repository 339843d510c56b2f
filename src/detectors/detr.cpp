// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// build_detr: YAML -> DetrDetectorOptions -> backbone + Detr -> NetworkDetector.
#include "detectors/detr.h"

#include <algorithm>

#include "config/checked.h"
#include "core/error.h"
#include "detectors/network_config.h"

namespace detlab {

namespace {

}  // namespace

DetrDetectorOptions parse_detr(const Config& node, const std::vector<std::string>& class_names) {
  DetrDetectorOptions o;
  o.net = parse_network_detector(node, class_names, o.net);
  DetrOptions& m = o.model;
  m.num_classes = static_cast<int64_t>(class_names.size());
  if (m.num_classes <= 0) config_error(node, "type", "the data set has no classes");
  if (node.has("backbone")) {
    const Config b = node.child("backbone");
    parse_backbone_node(b, &o.backbone, &o.backbone_options);
    m.feature = b.get<std::string>("feature", m.feature);
    m.backbone_lr_multiplier = get_non_negative(b, "lr_multiplier", m.backbone_lr_multiplier);
  }
  m.num_queries = get_positive(node, "num_queries", m.num_queries);
  m.anchor_points = node.get<bool>("anchor_points", m.anchor_points);
  m.two_stage = node.get<bool>("two_stage", m.two_stage);
  if (m.anchor_points && m.two_stage)
    config_error(node, "two_stage", "excludes anchor_points (two_stage reads each image's anchors from its encoder)");
  if (node.has("transformer")) {
    const Config t = node.child("transformer");
    TransformerOptions& x = m.transformer;
    x.d_model = get_positive(t, "d_model", x.d_model);
    x.nhead = get_positive(t, "nhead", x.nhead);
    x.num_encoder_layers = t.get<int64_t>("num_encoder_layers", x.num_encoder_layers);
    x.num_decoder_layers = get_positive(t, "num_decoder_layers", x.num_decoder_layers);
    x.dim_feedforward = get_positive(t, "dim_feedforward", x.dim_feedforward);
    x.dropout = t.get<double>("dropout", x.dropout);
    if (x.d_model % 4 != 0) config_error(t, "d_model", "must be a multiple of 4 (sine positional encoding)");
    if (x.d_model % x.nhead != 0) config_error(t, "nhead", "must divide d_model");
    if (x.num_encoder_layers < 0) config_error(t, "num_encoder_layers", "must be >= 0");
    if (!(x.dropout >= 0 && x.dropout < 1)) config_error(t, "dropout", "must be in [0, 1)");
  }
  if (node.has("matcher")) {
    const Config c = node.child("matcher");
    m.matcher.cost_class = get_non_negative(c, "cost_class", m.matcher.cost_class);
    m.matcher.cost_bbox = get_non_negative(c, "cost_bbox", m.matcher.cost_bbox);
    m.matcher.cost_giou = get_non_negative(c, "cost_giou", m.matcher.cost_giou);
    if (m.matcher.cost_class + m.matcher.cost_bbox + m.matcher.cost_giou <= 0)
      config_error(node, "matcher", "the costs cannot all be 0");
  }
  if (node.has("loss")) {
    const Config l = node.child("loss");
    m.criterion.eos_coef = l.get<double>("eos_coef", m.criterion.eos_coef);
    m.criterion.weight_ce = get_non_negative(l, "ce", m.criterion.weight_ce);
    m.criterion.weight_bbox = get_non_negative(l, "bbox", m.criterion.weight_bbox);
    m.criterion.weight_giou = get_non_negative(l, "giou", m.criterion.weight_giou);
    m.criterion.aux_loss = l.get<bool>("aux_loss", m.criterion.aux_loss);
    if (l.has("focal")) {
      const Config f = l.child("focal");
      if (f.is_scalar()) {
        m.criterion.focal = f.as<bool>();
      } else {
        m.criterion.focal = true;
        m.criterion.focal_alpha = get_non_negative(f, "alpha", m.criterion.focal_alpha);
        m.criterion.focal_gamma = get_non_negative(f, "gamma", m.criterion.focal_gamma);
        if (m.criterion.focal_alpha > 1) config_error(f, "alpha", "must be in [0, 1]");
        f.expect_consumed();
      }
    }
    if (!(m.criterion.eos_coef > 0 && m.criterion.eos_coef <= 1)) config_error(l, "eos_coef", "must be in (0, 1]");
  }
  if (node.has("augment")) o.model.augment = parse_scale_translate(node.child("augment"), o.model.augment);
  return o;
}

std::unique_ptr<NetworkDetector> make_detr(const DetrDetectorOptions& o) {
  BackboneOptions bo = o.backbone_options;
  if (!o.model.feature.empty()) {
    bo.out_features = {o.model.feature};
  } else {
    // Only the deepest map feeds the transformer: ask for it alone so the shallower taps are not kept around
    // (the probe skips the weights file).
    BackboneOptions probe = bo;
    probe.weights.clear();
    bo.out_features = {features_by_stride(make_backbone(o.backbone, probe)->output_shape()).back()};
  }
  std::shared_ptr<Backbone> backbone = make_backbone(o.backbone, bo);
  auto model = std::make_shared<Detr>(backbone, o.model);
  return std::make_unique<NetworkDetector>(model, o.net);
}

std::unique_ptr<Detector> build_detr(const Config& node, BuildContext& ctx) {
  const DetrDetectorOptions o = parse_detr(node, ctx.class_names);
  return build_reporting_errors(node, o.backbone_options.weights, [&] { return make_detr(o); });
}

}  // namespace detlab
