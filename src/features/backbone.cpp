// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Backbone stage (see backbone.h): make_eval_batch -> Backbone::forward -> FeatureMaps.
#include "features/backbone.h"

#include <torch/types.h>

#include <algorithm>

#include "config/checked.h"
#include "core/error.h"
#include "pipeline/registries.h"
#include "nn/weights/weight_file.h"
#include "tensor/module_weights.h"
#include "pipeline/feature_maps.h"
#include "pipeline/torch_stage.h"
#include "tensor/runtime.h"

namespace detlab {

namespace {

constexpr const char* kWeightsFile = "backbone.pt";

FpnOptions parse_fpn(const Config& node) {
  FpnOptions f;
  if (node.is_scalar()) {
    if (!node.as<bool>()) throw InputError(node.file(), node.path(), "write fpn: true or a map of FPN options");
    return f;
  }
  f.out_channels = node.get<int64_t>("out_channels", f.out_channels);
  if (f.out_channels <= 0) config_error(node, "out_channels", "must be positive");
  f.in_features = node.get<std::vector<std::string>>("in_features", f.in_features);
  f.extra = get_named(node, "extra", f.extra,
                      {{"max_pool", FpnOptions::Extra::kMaxPool}, {"p6p7", FpnOptions::Extra::kP6P7},
                       {"none", FpnOptions::Extra::kNone}});
  f.p6p7_from_c5 = node.get<bool>("p6p7_from_c5", f.p6p7_from_c5);
  f.norm.kind = get_named(node, "norm", f.norm.kind, norm_kind_names());
  return f;
}

class BackboneStageImpl final : public BackboneStage, public TorchBackboneStage {
 public:
  explicit BackboneStageImpl(const BackboneStageOptions& o) : opts_(o) {
    net_ = make_backbone(o.name, o.backbone);
    net_->eval();
    net_->to(parse_device(o.device));
    for (const auto& [name, s] : net_->output_shape()) shapes_[name] = FeatureShape{s.channels, s.stride};
  }

  std::string_view name() const override { return opts_.name; }
  std::map<std::string, FeatureShape> output_shape() const override { return shapes_; }
  std::shared_ptr<Backbone> backbone() const override { return net_; }
  const TransformOptions& transform() const override { return opts_.input; }

  void forward(ImageContext& ctx) override {
    DETLAB_REQUIRE(ctx.image != nullptr && !ctx.image->bgr.empty(), "a backbone stage needs an image");
    torch::NoGradGuard no_grad;
    if (net_->is_training()) net_->eval();  // after training; a no-op afterwards
    Batch batch = make_eval_batch({ctx.image->bgr}, opts_.input);
    auto maps = std::make_shared<FeatureMaps>();
    maps->images = batch.images.to(device());
    maps->meta = batch.meta[0];
    maps->maps = net_->forward(maps->images);
    ctx.scale = maps->meta.scale_x;
    ctx.maps = std::move(maps);
  }

  void save(const std::filesystem::path& dir) const override { save_weights(*net_, (dir / kWeightsFile).string()); }

  void load(const std::filesystem::path& dir) override {
    const std::filesystem::path file = dir / kWeightsFile;
    load_module_weights(*net_, file, "backbone");
    net_->eval();
  }

 private:
  torch::Device device() const {
    const auto params = net_->parameters();
    return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
  }

  BackboneStageOptions opts_;
  std::shared_ptr<Backbone> net_;
  std::map<std::string, FeatureShape> shapes_;
};

}  // namespace

BackboneOptions parse_backbone_options(const Config& node) {
  BackboneOptions b;
  b.out_features = node.get<std::vector<std::string>>("out_features", b.out_features);
  b.norm = get_named(node, "norm", b.norm, norm_kind_names());
  b.trainable_layers = node.get<int>("trainable_layers", b.trainable_layers);
  b.width_mult = node.get<double>("width_mult", b.width_mult);
  b.weights = node.get<std::string>("weights", b.weights);
  if (node.has("fpn")) {
    const Config f = node.child("fpn");
    if (!(f.is_scalar() && !f.as<bool>())) b.fpn = parse_fpn(f);
  }
  if (b.trainable_layers < -1) config_error(node, "trainable_layers", "must be >= 0 (or -1: everything trains)");
  if (!b.weights.empty() && !std::filesystem::exists(b.weights)) {
    config_error(node, "weights", "file not found: " + b.weights);
  }
  return b;
}

BackboneStageOptions parse_backbone_stage(const Config& node) {
  BackboneStageOptions o;
  o.name = parse_backbone_type(node);
  o.backbone = parse_backbone_options(node);
  if (node.has("input")) o.input = parse_transform(node.child("input"));
  o.device = node.get<std::string>("device", o.device);
  (void)parse_device(o.device);
  return o;
}

std::unique_ptr<BackboneStage> make_backbone_stage(const BackboneStageOptions& opts) {
  return std::make_unique<BackboneStageImpl>(opts);
}

void register_backbone_stages(Registry<BackboneStage>& r) {
  for (const std::string& name : backbone_names())
    r.add(
        name,
        [](const Config& c, BuildContext&) {
          return with_config_errors(c, [&] { return make_backbone_stage(parse_backbone_stage(c)); });
        },
        "torch CNN (nn/backbones) run once per image, optional FPN; maps shared by proposals and features");
}

}  // namespace detlab
