// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// rpn proposal stage (see rpn.h).
#include "proposals/rpn.h"

#include <torch/types.h>

#include <algorithm>

#include "config/checked.h"
#include "core/error.h"
#include "nn/weights/weight_file.h"
#include "pipeline/feature_maps.h"
#include "pipeline/registries.h"
#include "pipeline/torch_stage.h"
#include "tensor/module_weights.h"
#include "tensor/transform.h"

namespace detlab {

namespace {

constexpr const char* kWeightsFile = "rpn.pt";
constexpr const char* kOwnBackboneFile = "rpn_backbone.pt";

/// {train, test} or one value for both.
void read_train_test(const Config& node, const std::string& key, int64_t* train, int64_t* test) {
  if (!node.has(key)) return;
  const Config c = node.child(key);
  if (c.is_scalar()) {
    *train = *test = c.as<int64_t>();
  } else {
    *train = c.get<int64_t>("train", *train);
    *test = c.get<int64_t>("test", *test);
  }
  if (*train <= 0 || *test <= 0) config_error(node, key, "must be positive");
}

std::vector<std::vector<double>> to_double(const std::vector<std::vector<float>>& v) {
  std::vector<std::vector<double>> out;
  for (const auto& l : v) out.emplace_back(l.begin(), l.end());
  return out;
}


class RpnStage final : public ProposalStage, public TorchProposalStage {
 public:
  RpnStage(const RpnOptions& o, std::vector<std::string> in_features, std::unique_ptr<BackboneStage> own_backbone)
      : in_features_(std::move(in_features)), own_backbone_(std::move(own_backbone)) {
    rpn_ = RegionProposalNetwork(o);
    rpn_->eval();
  }

  std::string_view name() const override { return "rpn"; }
  int max_proposals() const override { return static_cast<int>(rpn_->options().post_nms_top_n_test); }
  RegionProposalNetwork rpn() const override { return rpn_; }
  const std::vector<std::string>& in_features() const override { return in_features_; }
  bool trainable() const override { return own_backbone_ == nullptr; }

  Proposals propose(const ImageContext& ctx) override {
    DETLAB_REQUIRE(ctx.image != nullptr && !ctx.image->bgr.empty(), "rpn needs an image");
    torch::NoGradGuard no_grad;
    std::shared_ptr<const FeatureMaps> fm;
    if (own_backbone_) {
      ImageContext own;
      own.image = ctx.image;
      own_backbone_->forward(own);
      fm = std::static_pointer_cast<const FeatureMaps>(own.maps);
    } else {
      DETLAB_REQUIRE(ctx.maps != nullptr, "rpn needs the backbone stage's maps (ImageContext::maps)");
      fm = std::static_pointer_cast<const FeatureMaps>(ctx.maps);
    }
    std::vector<torch::Tensor> maps;
    for (const std::string& f : in_features_) maps.push_back(fm->maps.at(f));
    if (rpn_->is_training()) rpn_->eval();  // after training
    const RpnOutput out = rpn_->forward(fm->images, maps, {fm->image_size()});
    const torch::Tensor boxes = to_original(out.boxes[0].to(torch::kCPU, torch::kFloat).contiguous(), fm->meta);
    const torch::Tensor scores = out.scores[0].to(torch::kCPU, torch::kFloat).contiguous();
    const float* b = boxes.data_ptr<float>();
    const float* s = scores.data_ptr<float>();
    Proposals p(static_cast<size_t>(boxes.size(0)));
    for (size_t i = 0; i < p.size(); ++i) p[i] = {Box{b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]}, s[i]};
    // The RPN's NMS returns decreasing scores already; a stable sort guards the contract against ties.
    std::stable_sort(p.begin(), p.end(), [](const Proposal& x, const Proposal& y) { return x.objectness > y.objectness; });
    return p;
  }

  void save(const std::filesystem::path& dir) const override {
    save_weights(*rpn_, (dir / kWeightsFile).string());
    if (own_backbone_) {
      const auto* tb = dynamic_cast<const TorchBackboneStage*>(own_backbone_.get());
      save_weights(*tb->backbone(), (dir / kOwnBackboneFile).string());
    }
  }

  void load(const std::filesystem::path& dir) override {
    load_module_weights(*rpn_, dir / kWeightsFile, "RPN");
    rpn_->eval();
    if (own_backbone_) {
      const auto* tb = dynamic_cast<const TorchBackboneStage*>(own_backbone_.get());
      load_module_weights(*tb->backbone(), dir / kOwnBackboneFile, "backbone");
      tb->backbone()->eval();
    }
  }

  /// Loads a source model folder's weights (backbone.pt, rpn.pt) into the own backbone and the RPN.
  void load_source(const std::filesystem::path& model) {
    own_backbone_->load(model);
    load_module_weights(*rpn_, model / kWeightsFile, "RPN");
    rpn_->eval();
  }

 private:
  RegionProposalNetwork rpn_{nullptr};
  std::vector<std::string> in_features_;
  std::unique_ptr<BackboneStage> own_backbone_;
};

}  // namespace

RpnStageOptions complete_rpn_options(RpnStageOptions o, const std::map<std::string, FeatureShape>& shapes,
                                     const std::string& file, const std::string& path) {
  std::map<std::string, ShapeSpec> specs;
  for (const auto& [n, s] : shapes) specs[n] = ShapeSpec{s.channels, s.stride};
  if (o.in_features.empty()) o.in_features = features_by_stride(specs);
  for (const std::string& f : o.in_features)
    if (!shapes.count(f)) throw InputError(file, path + ".in_features", "the backbone has no map '" + f + "'");
  o.rpn.in_channels = shapes.at(o.in_features[0]).channels;
  for (const std::string& f : o.in_features)
    if (shapes.at(f).channels != o.rpn.in_channels)
      throw InputError(file, path + ".in_features", "the RPN's maps need equal channels (an FPN); '" + f + "' has " +
                                                        std::to_string(shapes.at(f).channels));
  if (!o.anchors_given) {
    if (o.in_features.size() == 1) {
      o.rpn.anchors.sizes = {{128, 256, 512}};  // Ren et al. 2015: 3 scales x 3 ratios on one map
    } else {
      o.rpn.anchors.sizes.clear();
      for (size_t l = 0; l < o.in_features.size(); ++l) o.rpn.anchors.sizes.push_back({32.0 * (1 << l)});
    }
  }
  if (o.anchor_sizes_flat && o.in_features.size() > 1 && o.rpn.anchors.sizes[0].size() == o.in_features.size()) {
    const std::vector<double> flat = o.rpn.anchors.sizes[0];
    o.rpn.anchors.sizes.clear();
    for (double s : flat) o.rpn.anchors.sizes.push_back({s});
  }
  if (o.rpn.anchors.sizes.size() != o.in_features.size())
    throw InputError(file, path + ".anchor_sizes", std::to_string(o.rpn.anchors.sizes.size()) +
                                                       " levels of anchors for " + std::to_string(o.in_features.size()) +
                                                       " maps (in_features)");
  return o;
}

RpnStageOptions parse_rpn(const Config& node) {
  RpnStageOptions o;
  RpnOptions& r = o.rpn;
  if (node.has("anchor_sizes")) {
    const Config a = node.child("anchor_sizes");
    if (a.size() == 0) config_error(node, "anchor_sizes", "must not be empty");
    if (a.at(0).is_sequence()) {
      r.anchors.sizes = to_double(a.as<std::vector<std::vector<float>>>());
    } else {
      r.anchors.sizes = {a.as<std::vector<double>>()};  // one level; complete() gives one size per map if needed
      o.anchor_sizes_flat = true;
    }
    o.anchors_given = true;
    for (const auto& level : r.anchors.sizes)
      for (double s : level)
        if (!(s > 0)) config_error(node, "anchor_sizes", "sizes must be positive");
  }
  if (node.has("aspect_ratios")) {
    const std::vector<double> ratios = node.get<std::vector<double>>("aspect_ratios");
    if (ratios.empty()) config_error(node, "aspect_ratios", "must not be empty");
    for (double x : ratios)
      if (!(x > 0)) config_error(node, "aspect_ratios", "ratios must be positive");
    r.anchors.aspect_ratios = {ratios};
  }
  read_train_test(node, "pre_nms_top_n", &r.pre_nms_top_n_train, &r.pre_nms_top_n_test);
  read_train_test(node, "post_nms_top_n", &r.post_nms_top_n_train, &r.post_nms_top_n_test);
  r.nms_thresh = node.get<double>("nms_iou", r.nms_thresh);
  r.fg_iou_thresh = node.get<double>("fg_iou", r.fg_iou_thresh);
  r.bg_iou_thresh = node.get<double>("bg_iou", r.bg_iou_thresh);
  r.batch_size_per_image = node.get<int64_t>("batch_size_per_image", r.batch_size_per_image);
  r.positive_fraction = node.get<double>("positive_fraction", r.positive_fraction);
  r.score_thresh = node.get<double>("score_thresh", r.score_thresh);
  r.min_size = node.get<double>("min_size", r.min_size);
  r.conv_depth = node.get<int64_t>("conv_depth", r.conv_depth);
  o.in_features = node.get<std::vector<std::string>>("in_features", o.in_features);
  o.model = node.get<std::string>("model", o.model);
  if (!(r.nms_thresh > 0 && r.nms_thresh <= 1)) config_error(node, "nms_iou", "must be in (0, 1]");
  if (!(r.bg_iou_thresh >= 0 && r.bg_iou_thresh <= r.fg_iou_thresh && r.fg_iou_thresh <= 1))
    config_error(node, "fg_iou", "need 0 <= bg_iou <= fg_iou <= 1");
  if (r.batch_size_per_image <= 0) config_error(node, "batch_size_per_image", "must be positive");
  if (!(r.positive_fraction > 0 && r.positive_fraction <= 1)) {
    config_error(node, "positive_fraction", "must be in (0, 1]");
  }
  if (!(r.min_size >= 0)) config_error(node, "min_size", "must be >= 0");
  if (r.conv_depth < 1) config_error(node, "conv_depth", "must be >= 1");
  if (!o.model.empty() && !std::filesystem::is_directory(o.model))
    config_error(node, "model", "no such model folder: " + o.model);
  return o;
}

std::unique_ptr<ProposalStage> make_rpn(const RpnStageOptions& opts, BuildContext& ctx, const std::string& file,
                                        const std::string& path) {
  if (opts.model.empty()) {
    if (ctx.backbone.empty())
      throw InputError(file, path, "rpn needs a backbone stage (detector.backbone) or a trained model folder (model:)");
    const RpnStageOptions o = complete_rpn_options(opts, ctx.backbone, file, path);
    return std::make_unique<RpnStage>(o.rpn, o.in_features, nullptr);
  }
  // A trained staged model: rebuild its backbone and RPN from its config, then load their weights.
  DETLAB_REQUIRE(ctx.registries != nullptr, "BuildContext::registries must be set to build an rpn from a model");
  const std::filesystem::path dir(opts.model);
  const std::filesystem::path cfg_file = dir / "config.yaml";
  if (!std::filesystem::exists(cfg_file))
    throw InputError(cfg_file.string(), "", "not a trained model folder (no config.yaml): train one with detlab train");
  const Config root = Config::load(cfg_file);
  const Config det = root.child("detector");
  if (det.get<std::string>("type") != "staged" || !det.has("backbone") || !det.has("proposals") ||
      det.child("proposals").get<std::string>("type") != "rpn")
    throw InputError(cfg_file.string(), "detector", "rpn: model must be a staged detector with a backbone and rpn proposals");
  BuildContext sub;
  sub.registries = ctx.registries;
  sub.class_names = ctx.class_names;
  std::unique_ptr<BackboneStage> backbone = ctx.registries->backbones.build(det.child("backbone"), sub);
  RpnStageOptions src = parse_rpn(det.child("proposals"));
  if (!src.model.empty()) throw InputError(cfg_file.string(), "detector.proposals.model", "a model of a model is not supported");
  src = complete_rpn_options(src, backbone->output_shape(), cfg_file.string(), "detector.proposals");
  // The source's RPN architecture; this node's test-time settings (top-n, NMS) apply on top of it.
  RpnOptions r = src.rpn;
  r.pre_nms_top_n_test = opts.rpn.pre_nms_top_n_test;
  r.post_nms_top_n_test = opts.rpn.post_nms_top_n_test;
  r.nms_thresh = opts.rpn.nms_thresh;
  r.score_thresh = opts.rpn.score_thresh;
  r.min_size = opts.rpn.min_size;
  auto stage = std::make_unique<RpnStage>(r, src.in_features, std::move(backbone));
  stage->load_source(dir);
  return stage;
}

void register_rpn_stage(Registry<ProposalStage>& r) {
  r.add(
      "rpn",
      [](const Config& c, BuildContext& b) {
        return with_config_errors(c, [&] { return make_rpn(parse_rpn(c), b, c.file(), c.path()); });
      },
      "Region Proposal Network on the backbone's maps (Ren et al. 2015); or a trained model's, frozen (model:)");
}

}  // namespace detlab
