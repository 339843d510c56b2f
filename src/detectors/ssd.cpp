// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// build_ssd: YAML -> SsdDetectorOptions -> SsdVgg / SsdLiteMobileNet + Ssd -> NetworkDetector.
#include "detectors/ssd.h"

#include "config/checked.h"
#include "core/error.h"
#include "detectors/network_config.h"
#include "features/backbone_type.h"
#include "nn/weights/weight_file.h"
#include "tensor/module_weights.h"

namespace detlab {

namespace {

std::vector<std::vector<double>> read_lists(const Config& node, const std::string& key,
                                            std::vector<std::vector<double>> fallback) {
  if (!node.has(key)) return fallback;
  const Config c = node.child(key);
  if (!c.is_sequence() || c.size() == 0) config_error(node, key, "expected a list of lists, e.g. [[2], [2, 3]]");
  std::vector<std::vector<double>> out;
  for (size_t i = 0; i < c.size(); ++i) out.push_back(c.at(i).as<std::vector<double>>());
  return out;
}

// Caffe VGG-16 mean (RGB, [0, 1]) and std 1/255 of torchvision's ssd300_vgg16: inputs in 0..255 minus the mean.
constexpr std::array<float, 3> kSsd300Mean{0.48235f, 0.45882f, 0.40784f};
constexpr float kSsd300Std = 1.0f / 255.0f;

bool is_vgg(const std::string& b) { return b == "vgg16" || b == "small_vgg"; }
bool is_mobilenet(const std::string& b) { return b == "mobilenet_v3_large" || b == "mobilenet_v3_small"; }

// The backbone-dependent defaults (see ssd.h).
void set_defaults(const std::string& backbone, SsdDetectorOptions* o) {
  TransformOptions& t = o->net.transform;
  t.size_divisibility = 1;  // a fixed size: the batch tensor is exactly the network input
  t.mean = {0.5f, 0.5f, 0.5f};
  t.std = {0.5f, 0.5f, 0.5f};
  if (backbone == "vgg16") {
    o->vgg = ssd300_vgg16_extractor_options();
    o->model.anchors = ssd300_default_boxes();
    t.fixed_width = t.fixed_height = 300;
    t.mean = kSsd300Mean;
    t.std = {kSsd300Std, kSsd300Std, kSsd300Std};
  } else if (backbone == "small_vgg") {
    o->vgg = small_ssd_vgg_extractor_options();
    o->model.anchors = DefaultBoxOptions{};  // the paper's s_min 0.2, s_max 0.9, {2}, {2, 3} x 3, {2}, {2}
    t.fixed_width = t.fixed_height = 256;
  } else {
    o->mobilenet = ssdlite320_mobilenet_v3_large_extractor_options();
    if (backbone == "mobilenet_v3_small") o->mobilenet.mobilenet.arch = MobileNetV3Options::Arch::kSmall;
    const SsdOptions lite = ssdlite320_options(o->model.num_classes);
    o->model.anchors = lite.anchors;
    o->model.head = lite.head;
    o->model.post = lite.post;
    t.fixed_width = t.fixed_height = 320;
  }
}

void parse_backbone(const Config& b, SsdDetectorOptions* o) {
  o->backbone_weights = b.get<std::string>("weights", o->backbone_weights);
  if (is_vgg(o->backbone)) {
    SsdVggOptions& v = o->vgg;
    v.vgg.trainable_layers = b.get<int>("trainable_layers", v.vgg.trainable_layers);
    v.fc_channels = b.get<int64_t>("fc_channels", v.fc_channels);
    v.fc_dilation = b.get<int64_t>("fc_dilation", v.fc_dilation);
    v.l2_scale = b.get<double>("l2_scale", v.l2_scale);
    if (v.fc_channels <= 0) config_error(b, "fc_channels", "must be positive");
    if (v.fc_dilation <= 0) config_error(b, "fc_dilation", "must be positive");
    if (b.has("extras")) {
      v.extras.clear();
      for (const auto& e : read_lists(b, "extras", {})) {
        if (e.size() != 5) config_error(b, "extras", "each extra layer is [mid, out, kernel, stride, padding]");
        v.extras.push_back({static_cast<int64_t>(e[0]), static_cast<int64_t>(e[1]), static_cast<int64_t>(e[2]),
                            static_cast<int64_t>(e[3]), static_cast<int64_t>(e[4])});
        const auto& x = v.extras.back();
        if (x.mid_channels <= 0 || x.out_channels <= 0 || x.kernel <= 0 || x.stride <= 0 || x.padding < 0)
          config_error(b, "extras", "sizes must be positive (padding >= 0)");
      }
    }
  } else {
    SsdLiteMobileNetOptions& m = o->mobilenet;
    m.mobilenet.trainable_layers = b.get<int>("trainable_layers", m.mobilenet.trainable_layers);
    m.mobilenet.width_mult = b.get<double>("width_mult", m.mobilenet.width_mult);
    m.mobilenet.reduced_tail = b.get<bool>("reduced_tail", m.mobilenet.reduced_tail);
    m.extra_channels = b.get<std::vector<int64_t>>("extra_channels", m.extra_channels);
    if (!(m.mobilenet.width_mult > 0)) config_error(b, "width_mult", "must be positive");
    for (int64_t c : m.extra_channels)
      if (c <= 0) config_error(b, "extra_channels", "must be positive");
  }
}

}  // namespace

SsdDetectorOptions parse_ssd(const Config& node, const std::vector<std::string>& class_names) {
  SsdDetectorOptions o;
  o.model.num_classes = static_cast<int64_t>(class_names.size());
  if (o.model.num_classes <= 0) config_error(node, "type", "the data set has no classes");
  const Config* bnode = nullptr;
  Config backbone_node;
  if (node.has("backbone")) {
    backbone_node = node.child("backbone");
    bnode = &backbone_node;
    o.backbone = parse_backbone_type(backbone_node, o.backbone);
  }
  if (!is_vgg(o.backbone) && !is_mobilenet(o.backbone))
    config_error(node, "backbone.type", "expected vgg16, small_vgg, mobilenet_v3_large or mobilenet_v3_small, got '" +
                                   o.backbone + "'");
  set_defaults(o.backbone, &o);
  o.net = parse_network_detector(node, class_names, o.net);
  if (o.net.transform.fixed_width <= 0 || o.net.transform.fixed_height <= 0)
    config_error(node, "input",
                 "SSD needs a fixed input size (input.fixed_size): its default boxes tile the whole input");
  if (bnode) parse_backbone(*bnode, &o);

  SsdOptions& m = o.model;
  if (node.has("head")) {
    const Config h = node.child("head");
    const std::string type = h.get<std::string>("type", m.head == SsdHeadOptions::Kind::kLite ? "lite" : "conv");
    if (type == "conv") m.head = SsdHeadOptions::Kind::kConv;
    else if (type == "lite") m.head = SsdHeadOptions::Kind::kLite;
    else config_error(h, "type", "expected conv or lite, got '" + type + "'");
  }
  if (node.has("anchors")) {
    const Config a = node.child("anchors");
    m.anchors.aspect_ratios = read_lists(a, "aspect_ratios", m.anchors.aspect_ratios);
    m.anchors.min_ratio = a.get<double>("min_ratio", m.anchors.min_ratio);
    m.anchors.max_ratio = a.get<double>("max_ratio", m.anchors.max_ratio);
    m.anchors.scales = a.get<std::vector<double>>("scales", m.anchors.scales);
    m.anchors.steps = a.get<std::vector<double>>("steps", m.anchors.steps);
    m.anchors.clip = a.get<bool>("clip", m.anchors.clip);
    // Explicit scales or steps of another map count do not carry over when only the ratios change.
    if (a.has("aspect_ratios") && !a.has("scales") && m.anchors.scales.size() != m.anchors.aspect_ratios.size() + 1)
      m.anchors.scales.clear();
    if (a.has("aspect_ratios") && !a.has("steps") && m.anchors.steps.size() != m.anchors.aspect_ratios.size())
      m.anchors.steps.clear();
    for (const auto& r : m.anchors.aspect_ratios)
      for (double x : r)
        if (!(x > 0)) config_error(a, "aspect_ratios", "must be positive");
    if (!(m.anchors.min_ratio > 0 && m.anchors.min_ratio <= m.anchors.max_ratio))
      config_error(a, "min_ratio", "need 0 < min_ratio <= max_ratio");
    if (!m.anchors.scales.empty() && m.anchors.scales.size() != m.anchors.aspect_ratios.size() + 1)
      config_error(a, "scales",
                   "need one more scale than feature maps (" + std::to_string(m.anchors.aspect_ratios.size() + 1) +
                           ")");
    if (!m.anchors.steps.empty() && m.anchors.steps.size() != m.anchors.aspect_ratios.size())
      config_error(a, "steps",
                   "need one step per feature map (" + std::to_string(m.anchors.aspect_ratios.size()) + ")");
  }
  const size_t maps = is_vgg(o.backbone) ? 2 + o.vgg.extras.size() : 2 + o.mobilenet.extra_channels.size();
  if (m.anchors.aspect_ratios.size() != maps)
    config_error(node, "anchors.aspect_ratios", "the backbone gives " + std::to_string(maps) + " feature maps but " +
                                           std::to_string(m.anchors.aspect_ratios.size()) + " lists are given");
  m.augment.mean = o.net.transform.mean;
  m.augment.std = o.net.transform.std;
  if (node.has("augment")) {
    const Config a = node.child("augment");
    m.augment.photometric = a.get<bool>("photometric", m.augment.photometric);
    m.augment.expand = a.get<double>("expand", m.augment.expand);
    m.augment.crop = a.get<bool>("crop", m.augment.crop);
    m.augment.min_scale = a.get<double>("min_scale", m.augment.min_scale);
    if (!(m.augment.expand >= 1 && m.augment.expand <= 16)) config_error(a, "expand", "must be in [1, 16]");
    if (!(m.augment.min_scale > 0 && m.augment.min_scale <= 1)) config_error(a, "min_scale", "must be in (0, 1]");
  }
  if (node.has("loss")) {
    const Config l = node.child("loss");
    m.iou_thresh = l.get<double>("iou_thresh", m.iou_thresh);
    m.loss.neg_to_pos = l.get<double>("neg_to_pos", m.loss.neg_to_pos);
    m.loss.smooth_l1_beta = l.get<double>("smooth_l1_beta", m.loss.smooth_l1_beta);
    if (!(m.iou_thresh > 0 && m.iou_thresh <= 1)) config_error(l, "iou_thresh", "must be in (0, 1]");
    if (!(m.loss.neg_to_pos >= 0)) config_error(l, "neg_to_pos", "must be >= 0");
    if (!(m.loss.smooth_l1_beta >= 0)) config_error(l, "smooth_l1_beta", "must be >= 0");
  }
  if (node.has("postprocess")) {
    const Config p = node.child("postprocess");
    m.post.score_thresh = p.get<double>("score_thresh", m.post.score_thresh);
    m.post.nms_thresh = p.get<double>("nms_thresh", m.post.nms_thresh);
    m.post.topk_candidates = p.get<int64_t>("topk_candidates", m.post.topk_candidates);
    m.post.detections_per_img = p.get<int64_t>("detections_per_img", m.post.detections_per_img);
    if (!(m.post.score_thresh >= 0 && m.post.score_thresh < 1)) config_error(p, "score_thresh", "must be in [0, 1)");
    if (!(m.post.nms_thresh > 0 && m.post.nms_thresh <= 1)) config_error(p, "nms_thresh", "must be in (0, 1]");
    if (m.post.topk_candidates <= 0) config_error(p, "topk_candidates", "must be positive");
    if (m.post.detections_per_img <= 0) config_error(p, "detections_per_img", "must be positive");
  }
  return o;
}

std::shared_ptr<Ssd> make_ssd_model(const SsdDetectorOptions& o) {
  // ImageNet weights of the body: torchvision's VGG / MobileNetV3 classifier checkpoints, keys mapped onto the
  // extractor's split layout; SSD's own layers stay initialised.
  std::shared_ptr<Backbone> backbone;
  if (is_vgg(o.backbone)) {
    auto vgg = std::make_shared<SsdVgg>(o.vgg);
    if (!o.backbone_weights.empty())
      load_module_weights(*vgg, o.backbone_weights, "VGG body", vgg->classifier_load_options());
    backbone = vgg;
  } else {
    auto mobilenet = std::make_shared<SsdLiteMobileNet>(o.mobilenet);
    if (!o.backbone_weights.empty())
      load_module_weights(*mobilenet, o.backbone_weights, "MobileNetV3 body", mobilenet->classifier_load_options());
    backbone = mobilenet;
  }
  return std::make_shared<Ssd>(backbone, o.model);
}

std::unique_ptr<NetworkDetector> make_ssd(const SsdDetectorOptions& o) {
  return std::make_unique<NetworkDetector>(make_ssd_model(o), o.net);
}

std::unique_ptr<Detector> build_ssd(const Config& node, BuildContext& ctx) {
  const SsdDetectorOptions o = parse_ssd(node, ctx.class_names);
  return build_reporting_errors(node, o.backbone_weights, [&] { return make_ssd(o); });
}

}  // namespace detlab
