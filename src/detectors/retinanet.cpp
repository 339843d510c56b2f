// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// build_retinanet: YAML -> RetinaNetDetectorOptions -> ResNet + FPN (P3..P7) + RetinaNet -> NetworkDetector.
#include "detectors/retinanet.h"

#include <algorithm>

#include "config/checked.h"
#include "core/error.h"
#include "detectors/network_config.h"
#include "features/backbone_type.h"
#include "nn/backbones/backbone_with_fpn.h"
#include "nn/weights/weight_file.h"
#include "tensor/module_weights.h"

namespace detlab {

namespace {

ResNetOptions resnet_preset(const Config& node, const std::string& name) {
  if (name == "resnet18") return resnet_options(18);
  if (name == "resnet34") return resnet_options(34);
  if (name == "resnet50") return resnet_options(50);
  if (name == "resnet101") return resnet_options(101);
  if (name == "small_resnet") return small_resnet_options();
  config_error(node, "backbone.type",
               "expected resnet18, resnet34, resnet50, resnet101 or small_resnet, got '" + name + "'");
}

}  // namespace

ResNetOptions retinanet_body(ResNetOptions preset, const std::vector<int64_t>& returned) {
  preset.num_classes = 0;
  preset.out_features.clear();
  for (int64_t k : returned) preset.out_features.push_back("layer" + std::to_string(k));
  return preset;
}

FpnOptions retinanet_fpn() {
  FpnOptions f;
  f.extra = FpnOptions::Extra::kP6P7;
  return f;
}

RetinaNetDetectorOptions parse_retinanet(const Config& node, const std::vector<std::string>& class_names) {
  RetinaNetDetectorOptions o;
  RetinaNetOptions& m = o.model;
  m.num_classes = static_cast<int64_t>(class_names.size());
  if (m.num_classes <= 0) config_error(node, "type", "the data set has no classes");
  o.net = parse_network_detector(node, class_names, o.net);  // GeneralizedRCNNTransform's defaults

  std::vector<int64_t> returned{2, 3, 4};  // C3..C5 (torchvision's returned_layers)
  if (node.has("backbone")) {
    const Config b = node.child("backbone");
    o.backbone = parse_backbone_type(b, o.backbone);
    ResNetOptions r = resnet_preset(node, o.backbone);
    r.norm.kind = get_named(b, "norm", r.norm.kind, norm_kind_names(/*with_none=*/false));
    r.norm.eps = get_non_negative(b, "bn_eps", r.norm.eps);
    r.trainable_layers = b.get<int>("trainable_layers", r.trainable_layers);
    returned = b.get<std::vector<int64_t>>("returned_layers", returned);
    o.backbone_weights = b.get<std::string>("weights", o.backbone_weights);
    if (r.trainable_layers < 0 || r.trainable_layers > 5) config_error(b, "trainable_layers", "must be in [0, 5]");
    if (returned.empty() || !std::is_sorted(returned.begin(), returned.end()) || returned.front() < 1 ||
        returned.back() > 4 || std::adjacent_find(returned.begin(), returned.end()) != returned.end())
      config_error(b, "returned_layers", "expected increasing stage numbers in 1..4, e.g. [2, 3, 4]");
    o.resnet = retinanet_body(r, returned);
  }

  if (node.has("fpn")) {
    const Config f = node.child("fpn");
    o.fpn.out_channels = f.get<int64_t>("out_channels", o.fpn.out_channels);
    o.fpn.p6p7_from_c5 = f.get<bool>("p6p7_from_c5", o.fpn.p6p7_from_c5);
    if (o.fpn.out_channels <= 0) config_error(f, "out_channels", "must be positive");
  }

  if (node.has("anchors")) {
    std::vector<double> sizes{32, 64, 128, 256, 512}, ratios{0.5, 1.0, 2.0};  // retinanet_anchors()'s
    int scales_per_octave = 3;
    const Config a = node.child("anchors");
    sizes = a.get<std::vector<double>>("sizes", sizes);
    scales_per_octave = a.get<int>("scales_per_octave", scales_per_octave);
    ratios = a.get<std::vector<double>>("aspect_ratios", ratios);
    for (double s : sizes)
      if (!(s > 0)) config_error(a, "sizes", "must be positive");
    for (double r : ratios)
      if (!(r > 0)) config_error(a, "aspect_ratios", "must be positive");
    if (scales_per_octave < 1) config_error(a, "scales_per_octave", "must be >= 1");
    if (ratios.empty()) config_error(a, "aspect_ratios", "needs at least one ratio");
    m.anchors = retinanet_anchors(sizes, scales_per_octave, ratios);
  }
  const size_t levels = returned.size() + 2;  // P6, P7
  if (m.anchors.sizes.size() != levels)
    config_error(node, "anchors.sizes", "need one base size per pyramid level (" + std::to_string(levels) + ")");

  if (node.has("head")) {
    const Config h = node.child("head");
    m.head_convs = h.get<int64_t>("num_convs", m.head_convs);
    m.prior_probability = h.get<double>("prior_probability", m.prior_probability);
    if (h.has("norm")) {
      const std::string norm = h.get<std::string>("norm");
      if (norm == "none") m.head_norm.kind = NormKind::kNone;
      else if (norm == "batch_norm") m.head_norm.kind = NormKind::kBatchNorm;  // one BN shared by all levels
      else config_error(h, "norm", "expected none or batch_norm, got '" + norm + "'");
    }
    if (m.head_convs < 0) config_error(h, "num_convs", "must be >= 0");
    if (!(m.prior_probability > 0 && m.prior_probability < 1)) {
      config_error(h, "prior_probability", "must be in (0, 1)");
    }
  }
  if (node.has("loss")) {
    const Config l = node.child("loss");
    m.focal.alpha = l.get<double>("alpha", m.focal.alpha);
    m.focal.gamma = l.get<double>("gamma", m.focal.gamma);
    m.matcher.high_threshold = l.get<double>("fg_iou_thresh", m.matcher.high_threshold);
    m.matcher.low_threshold = l.get<double>("bg_iou_thresh", m.matcher.low_threshold);
    m.smooth_l1_beta = l.get<double>("smooth_l1_beta", m.smooth_l1_beta);
    const std::string box = l.get<std::string>("box_loss", "l1");
    if (box == "l1") m.box_loss = RetinaNetOptions::BoxLoss::kL1;
    else if (box == "smooth_l1") m.box_loss = RetinaNetOptions::BoxLoss::kSmoothL1;
    else if (box == "giou") m.box_loss = RetinaNetOptions::BoxLoss::kGiou;
    else config_error(l, "box_loss", "expected l1, smooth_l1 or giou, got '" + box + "'");
    if (!(m.focal.gamma >= 0)) config_error(l, "gamma", "must be >= 0");
    if (!(m.focal.alpha <= 1)) config_error(l, "alpha", "must be <= 1 (< 0 disables the weighting)");
    if (!(m.matcher.low_threshold > 0 && m.matcher.low_threshold <= m.matcher.high_threshold &&
          m.matcher.high_threshold <= 1))
      config_error(l, "bg_iou_thresh", "need 0 < bg_iou_thresh <= fg_iou_thresh <= 1");
    if (!(m.smooth_l1_beta >= 0)) config_error(l, "smooth_l1_beta", "must be >= 0");
  }
  if (node.has("postprocess")) {
    const Config p = node.child("postprocess");
    m.score_thresh = p.get<double>("score_thresh", m.score_thresh);
    m.nms_thresh = p.get<double>("nms_thresh", m.nms_thresh);
    m.topk_candidates = p.get<int64_t>("topk_candidates", m.topk_candidates);
    m.detections_per_img = p.get<int64_t>("detections_per_img", m.detections_per_img);
    if (!(m.score_thresh >= 0 && m.score_thresh < 1)) config_error(p, "score_thresh", "must be in [0, 1)");
    if (!(m.nms_thresh > 0 && m.nms_thresh <= 1)) config_error(p, "nms_thresh", "must be in (0, 1]");
    if (m.topk_candidates <= 0) config_error(p, "topk_candidates", "must be positive");
    if (m.detections_per_img <= 0) config_error(p, "detections_per_img", "must be positive");
  }
  return o;
}

std::shared_ptr<RetinaNet> make_retinanet_model(const RetinaNetDetectorOptions& o) {
  auto body = std::make_shared<ResNet>(o.resnet);
  if (!o.backbone_weights.empty()) {
    LoadOptions load;
    load.ignore = {"fc."};  // an ImageNet classifier checkpoint: the head is not part of the body
    load.drop_unrenamed = false;
    load_module_weights(*body, o.backbone_weights, "ResNet body", load);
  }
  return std::make_shared<RetinaNet>(std::make_shared<BackboneWithFpn>(body, o.fpn), o.model);
}

std::unique_ptr<NetworkDetector> make_retinanet(const RetinaNetDetectorOptions& o) {
  return std::make_unique<NetworkDetector>(make_retinanet_model(o), o.net);
}

std::unique_ptr<Detector> build_retinanet(const Config& node, BuildContext& ctx) {
  const RetinaNetDetectorOptions o = parse_retinanet(node, ctx.class_names);
  return build_reporting_errors(node, o.backbone_weights, [&] { return make_retinanet(o); });
}

}  // namespace detlab
