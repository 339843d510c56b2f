// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// make_backbone: the name -> family table (see make_backbone.h).
#include "nn/backbones/make_backbone.h"

#include "nn/backbones/backbone_with_fpn.h"
#include "nn/backbones/mobilenet_v3.h"
#include "nn/backbones/resnet.h"
#include "nn/backbones/vgg.h"
#include "nn/weights/weight_file.h"

namespace detlab {
namespace {

struct Built {
  std::shared_ptr<Backbone> body;
  std::string head_prefix;  // keys of the classification head in torchvision checkpoints
};

// ResNet's trainable_layers follows torchvision (0..5, default all); -1 maps to 5.
Built build_resnet(ResNetOptions o, const BackboneOptions& b) {
  o.num_classes = b.num_classes;
  o.norm.kind = b.norm;
  if (b.trainable_layers >= 0) o.trainable_layers = b.trainable_layers;
  if (!b.out_features.empty()) o.out_features = b.out_features;
  return {std::make_shared<ResNet>(o), "fc."};
}

Built build_vgg(VggOptions o, const BackboneOptions& b) {
  TORCH_CHECK(b.norm == NormKind::kBatchNorm || b.norm == NormKind::kNone,
              "make_backbone: VGG supports batch norm only through the *_bn names");
  o.num_classes = b.num_classes;
  o.trainable_layers = b.trainable_layers;
  if (!b.out_features.empty()) o.out_features = b.out_features;
  return {std::make_shared<Vgg>(o), "classifier."};
}

Built build_mobilenet(MobileNetV3Options::Arch arch, const BackboneOptions& b) {
  MobileNetV3Options o;
  o.arch = arch;
  o.width_mult = b.width_mult;
  o.num_classes = b.num_classes;
  o.norm.kind = b.norm;
  o.trainable_layers = b.trainable_layers;
  o.out_features = b.out_features;
  return {std::make_shared<MobileNetV3>(o), "classifier."};
}

}  // namespace

std::vector<std::string> backbone_names() {
  return {"resnet18", "resnet34",           "resnet50",           "resnet101",    "vgg11",    "vgg16",
          "vgg16_bn", "mobilenet_v3_large", "mobilenet_v3_small", "small_resnet", "small_vgg"};
}

std::shared_ptr<Backbone> make_backbone(const std::string& name, const BackboneOptions& options) {
  TORCH_CHECK(options.width_mult == 1.0 || name.rfind("mobilenet_v3", 0) == 0,
              "make_backbone: width_mult applies to mobilenet_v3_* only (", name, ")");
  Built built;
  if (name == "resnet18") built = build_resnet(resnet_options(18), options);
  else if (name == "resnet34") built = build_resnet(resnet_options(34), options);
  else if (name == "resnet50") built = build_resnet(resnet_options(50), options);
  else if (name == "resnet101") built = build_resnet(resnet_options(101), options);
  else if (name == "small_resnet") built = build_resnet(small_resnet_options(), options);
  else if (name == "vgg11") built = build_vgg(vgg_options(11), options);
  else if (name == "vgg16") built = build_vgg(vgg_options(16), options);
  else if (name == "vgg16_bn") built = build_vgg(vgg_options(16, /*batch_norm=*/true), options);
  else if (name == "small_vgg") built = build_vgg(small_vgg_options(), options);
  else if (name == "mobilenet_v3_large") built = build_mobilenet(MobileNetV3Options::Arch::kLarge, options);
  else if (name == "mobilenet_v3_small") built = build_mobilenet(MobileNetV3Options::Arch::kSmall, options);
  else {
    std::string known;
    for (const auto& n : backbone_names()) known += (known.empty() ? "" : ", ") + n;
    TORCH_CHECK(false, "make_backbone: unknown backbone '", name, "' (known: ", known, ")");
  }

  if (!options.weights.empty()) {
    LoadOptions load;
    if (options.num_classes == 0) load.ignore = {built.head_prefix};
    load_weights(*built.body, options.weights, load);
  }
  if (options.fpn) return std::make_shared<BackboneWithFpn>(built.body, *options.fpn);
  return built.body;
}

int64_t count_parameters(const torch::nn::Module& module, bool trainable_only) {
  int64_t n = 0;
  for (const auto& p : module.parameters(/*recurse=*/true)) {
    if (!trainable_only || p.requires_grad()) n += p.numel();
  }
  return n;
}

}  // namespace detlab
