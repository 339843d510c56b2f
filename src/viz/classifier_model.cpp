// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ClassifierScoreModel and BackboneScoreModel.
#include "viz/classifier_model.h"

#include "core/error.h"

namespace detlab {

ClassifierScoreModel::ClassifierScoreModel(std::shared_ptr<ClassifierNet> net, TransformOptions transform,
                                           std::vector<std::string> class_names, torch::Device device)
    : net_(std::move(net)), transform_(std::move(transform)), class_names_(std::move(class_names)), device_(device) {
  DETLAB_REQUIRE(net_ != nullptr);
  DETLAB_REQUIRE(static_cast<int64_t>(class_names_.size()) == net_->num_classes(), class_names_.size(),
                 net_->num_classes());
  gap_.layer = net_->feature();
  gap_.weight = net_->fc()->weight.detach();  // shares storage with the parameter: follows later loads
  gap_.bias = net_->fc()->bias.detach();
}

ClassifierScoreModel::ClassifierScoreModel(const ClassifierView& classifier)
    : ClassifierScoreModel(classifier.net, classifier.image_transform, classifier.class_names, classifier.device) {}

torch::Tensor ClassifierScoreModel::forward(const torch::Tensor& input, TapMap* maps) {
  ClassifierNet::Output out = net_->forward(input);
  if (maps) *maps = std::move(out.maps);
  return out.logits;
}

BackboneScoreModel::BackboneScoreModel(std::shared_ptr<Backbone> backbone, std::shared_ptr<torch::nn::Module> owner,
                                       TransformOptions transform, torch::Device device)
    : backbone_(std::move(backbone)), owner_(std::move(owner)), transform_(std::move(transform)), device_(device) {
  DETLAB_REQUIRE(backbone_ != nullptr && owner_ != nullptr);
  layers_ = features_by_stride(backbone_->output_shape());
}

torch::Tensor BackboneScoreModel::forward(const torch::Tensor& input, TapMap* maps) {
  TapMap m = backbone_->forward(input);
  if (maps) *maps = std::move(m);
  return torch::zeros({input.size(0), 0}, input.options());
}

std::shared_ptr<Backbone> find_backbone(torch::nn::Module& network) {
  for (const auto& child : network.named_children())
    if (child.key() == "backbone") return std::dynamic_pointer_cast<Backbone>(child.value());
  return nullptr;
}

}  // namespace detlab
