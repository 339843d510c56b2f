// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ClassifierNet and the tap lists of the backbone families.
#include "nn/classification/classifier_net.h"

#include <algorithm>
#include <cctype>
#include <climits>

#include "nn/backbones/make_backbone.h"
#include "nn/backbones/mobilenet_v3.h"
#include "nn/backbones/vgg.h"

namespace detlab {

namespace {

/// Forward-order key of a tap name of the three families: the integers in the name, a missing second one read as
/// "after every sub-tap". conv3_2 -> (3, 2), pool3 -> (3, max), features.13.block.0 -> (13, 0),
/// features.13 -> (13, max), layer2 -> (2, max).
std::vector<long> tap_order(const std::string& name) {
  std::vector<long> key;
  for (size_t i = 0; i < name.size();) {
    if (std::isdigit(static_cast<unsigned char>(name[i]))) {
      size_t j = i;
      while (j < name.size() && std::isdigit(static_cast<unsigned char>(name[j]))) ++j;
      key.push_back(std::stol(name.substr(i, j - i)));
      i = j;
    } else {
      ++i;
    }
  }
  while (key.size() < 2) key.push_back(LONG_MAX);
  return key;
}

}  // namespace

std::vector<std::string> backbone_taps(const std::string& backbone_name) {
  BackboneOptions probe;
  const std::shared_ptr<Backbone> b = make_backbone(backbone_name, probe);
  std::map<std::string, ShapeSpec> shapes;
  if (auto* vgg = dynamic_cast<Vgg*>(b.get())) {
    shapes = vgg->available_features();
  } else if (auto* mobile = dynamic_cast<MobileNetV3*>(b.get())) {
    shapes = mobile->available_features();
  } else {
    shapes = b->output_shape();  // ResNet's defaults are all four stages
  }
  std::vector<std::string> names;
  for (const auto& kv : shapes) names.push_back(kv.first);
  std::stable_sort(names.begin(), names.end(),
                   [](const std::string& a, const std::string& b) { return tap_order(a) < tap_order(b); });
  return names;
}

ClassifierNet::ClassifierNet(std::shared_ptr<Backbone> backbone, std::string feature, int64_t num_classes)
    : backbone_(std::move(backbone)), feature_(std::move(feature)), num_classes_(num_classes) {
  TORCH_CHECK(backbone_ != nullptr, "ClassifierNet: backbone is null");
  TORCH_CHECK(num_classes_ >= 2, "ClassifierNet: num_classes must be >= 2, got ", num_classes_);
  shapes_ = backbone_->output_shape();
  TORCH_CHECK(shapes_.count(feature_), "ClassifierNet: feature '", feature_, "' is not a backbone output");
  for (const auto& kv : shapes_) taps_.push_back(kv.first);
  std::stable_sort(taps_.begin(), taps_.end(),
                   [](const std::string& a, const std::string& b) { return tap_order(a) < tap_order(b); });
  register_module("backbone", backbone_);
  fc_ = register_module("fc", torch::nn::Linear(shapes_.at(feature_).channels, num_classes_));
}

ClassifierNet::Output ClassifierNet::forward(const torch::Tensor& images) {
  Output out;
  out.maps = backbone_->forward(images);
  const torch::Tensor& f = out.maps.at(feature_);
  out.embedding = f.mean({2, 3});
  out.logits = fc_->forward(out.embedding);
  return out;
}

torch::Tensor ClassifierNet::head(const torch::Tensor& feature_map) {
  TORCH_CHECK(feature_map.dim() == 4, "ClassifierNet::head: expected N x C x h x w, got ", feature_map.sizes());
  return fc_->forward(feature_map.mean({2, 3}));
}

std::shared_ptr<ClassifierNet> make_classifier_net(const std::string& backbone_name, const std::string& feature,
                                                   int64_t num_classes) {
  const std::vector<std::string> all = backbone_taps(backbone_name);
  TORCH_CHECK(!all.empty(), "make_classifier_net: backbone '", backbone_name, "' has no taps");
  const std::string f = feature.empty() ? all.back() : feature;
  const auto it = std::find(all.begin(), all.end(), f);
  if (it == all.end()) {
    std::string known;
    for (const auto& n : all) known += (known.empty() ? "" : ", ") + n;
    TORCH_CHECK(false, "make_classifier_net: '", backbone_name, "' has no map '", f, "' (maps: ", known, ")");
  }
  BackboneOptions bo;
  bo.out_features.assign(all.begin(), it + 1);  // every tap up to the pooled one: nothing past it is run
  return std::make_shared<ClassifierNet>(make_backbone(backbone_name, bo), f, num_classes);
}

}  // namespace detlab
