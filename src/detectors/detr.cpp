// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// build_detr: YAML -> DetrDetectorOptions -> backbone + Detr -> NetworkDetector.
#include "detectors/detr.h"

#include <algorithm>

#include "core/error.h"

namespace detlab {

namespace {

[[noreturn]] void bad(const Config& node, const std::string& key, const std::string& message) {
  throw InputError(node.file(), node.child_path(key), message);
}

int64_t positive(const Config& node, const std::string& key, int64_t fallback) {
  const auto v = node.get<int64_t>(key, fallback);
  if (v <= 0) bad(node, key, "must be positive, got " + std::to_string(v));
  return v;
}

double non_negative(const Config& node, const std::string& key, double fallback) {
  const double v = node.get<double>(key, fallback);
  if (!(v >= 0)) bad(node, key, "must be >= 0");
  return v;
}

NormKind parse_norm(const Config& node, const std::string& key, NormKind fallback) {
  if (!node.has(key)) return fallback;
  const std::string s = node.get<std::string>(key);
  if (s == "batch_norm") return NormKind::kBatchNorm;
  if (s == "frozen_batch_norm") return NormKind::kFrozenBatchNorm;
  if (s == "none") return NormKind::kNone;
  bad(node, key, "expected batch_norm, frozen_batch_norm or none, got '" + s + "'");
}

}  // namespace

DetrDetectorOptions parse_detr(const Config& node, const std::vector<std::string>& class_names) {
  DetrDetectorOptions o;
  o.net = parse_network_detector(node, class_names, NetworkDetectorOptions{});
  DetrOptions& m = o.model;
  m.num_classes = static_cast<int64_t>(class_names.size());
  if (m.num_classes <= 0) bad(node, "type", "the data set has no classes");
  if (node.has("backbone")) {
    const Config b = node.child("backbone");
    o.backbone = b.get<std::string>("name", o.backbone);
    m.feature = b.get<std::string>("feature", m.feature);
    o.backbone_options.norm = parse_norm(b, "norm", o.backbone_options.norm);
    o.backbone_options.trainable_layers = b.get<int>("trainable_layers", o.backbone_options.trainable_layers);
    o.backbone_options.weights = b.get<std::string>("weights", o.backbone_options.weights);
    m.backbone_lr_multiplier = non_negative(b, "lr_multiplier", m.backbone_lr_multiplier);
    const std::vector<std::string> names = backbone_names();
    if (std::find(names.begin(), names.end(), o.backbone) == names.end()) bad(b, "name", "unknown backbone");
  }
  m.num_queries = positive(node, "num_queries", m.num_queries);
  if (node.has("transformer")) {
    const Config t = node.child("transformer");
    nn::TransformerOptions& x = m.transformer;
    x.d_model = positive(t, "d_model", x.d_model);
    x.nhead = positive(t, "nhead", x.nhead);
    x.num_encoder_layers = t.get<int64_t>("num_encoder_layers", x.num_encoder_layers);
    x.num_decoder_layers = positive(t, "num_decoder_layers", x.num_decoder_layers);
    x.dim_feedforward = positive(t, "dim_feedforward", x.dim_feedforward);
    x.dropout = t.get<double>("dropout", x.dropout);
    if (x.d_model % 4 != 0) bad(t, "d_model", "must be a multiple of 4 (sine positional encoding)");
    if (x.d_model % x.nhead != 0) bad(t, "nhead", "must divide d_model");
    if (x.num_encoder_layers < 0) bad(t, "num_encoder_layers", "must be >= 0");
    if (!(x.dropout >= 0 && x.dropout < 1)) bad(t, "dropout", "must be in [0, 1)");
  }
  if (node.has("matcher")) {
    const Config c = node.child("matcher");
    m.matcher.cost_class = non_negative(c, "cost_class", m.matcher.cost_class);
    m.matcher.cost_bbox = non_negative(c, "cost_bbox", m.matcher.cost_bbox);
    m.matcher.cost_giou = non_negative(c, "cost_giou", m.matcher.cost_giou);
    if (m.matcher.cost_class + m.matcher.cost_bbox + m.matcher.cost_giou <= 0)
      bad(node, "matcher", "the costs cannot all be 0");
  }
  if (node.has("loss")) {
    const Config l = node.child("loss");
    m.criterion.eos_coef = l.get<double>("eos_coef", m.criterion.eos_coef);
    m.criterion.weight_ce = non_negative(l, "ce", m.criterion.weight_ce);
    m.criterion.weight_bbox = non_negative(l, "bbox", m.criterion.weight_bbox);
    m.criterion.weight_giou = non_negative(l, "giou", m.criterion.weight_giou);
    m.criterion.aux_loss = l.get<bool>("aux_loss", m.criterion.aux_loss);
    if (!(m.criterion.eos_coef > 0 && m.criterion.eos_coef <= 1)) bad(l, "eos_coef", "must be in (0, 1]");
  }
  if (node.has("augment")) {
    const Config a = node.child("augment");
    ScaleTranslateOptions& g = o.model.augment;
    g.scale = a.get<double>("scale", g.scale);
    g.translate = a.get<double>("translate", g.translate);
    g.min_visible = a.get<double>("min_visible", g.min_visible);
    if (!(g.scale >= 0 && g.scale < 1)) bad(a, "scale", "must be in [0, 1)");
    if (!(g.translate >= 0 && g.translate < 1)) bad(a, "translate", "must be in [0, 1)");
    if (!(g.min_visible > 0 && g.min_visible <= 1)) bad(a, "min_visible", "must be in (0, 1]");
  }
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
  try {
    return make_detr(o);
  } catch (const c10::Error& e) {  // an option combination the modules refuse (e.g. a feature the backbone lacks)
    throw InputError(node.file(), node.path(), e.what_without_backtrace());
  }
}

}  // namespace detlab
