// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ScoreModel adapters for networks without a detection target: a crop classifier, or a bare backbone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "viz/classifier_view.h"
#include "viz/score_model.h"

namespace detlab {

/// What this represents: a ClassifierNet as a ScoreModel: scores = its logits (one column per class,
/// "background" last), layers = its backbone taps, gap_linear() = its pooled layer and fc (CAM). Whole images
/// go in with `transform` (the classifier's image_transform(): the net is fully convolutional up to the pooling).
/// thread safety: one call at a time.
class ClassifierScoreModel : public ScoreModel {
 public:
  ClassifierScoreModel(std::shared_ptr<ClassifierNet> net, TransformOptions transform,
                       std::vector<std::string> class_names, torch::Device device);
  /// The classifier's net, whole-image transform, classes and device.
  explicit ClassifierScoreModel(const ClassifierView& classifier);

  std::vector<std::string> layers() const override { return net_->taps(); }
  std::vector<std::string> score_names() const override { return class_names_; }
  torch::Tensor forward(const torch::Tensor& input, TapMap* maps) override;
  TapMap features(const torch::Tensor& input) override { return net_->backbone()->forward(input); }
  const TransformOptions& transform() const override { return transform_; }
  torch::nn::Module& module() override { return *net_; }
  torch::Device device() const override { return device_; }
  const GapLinear* gap_linear() const override { return &gap_; }

 private:
  std::shared_ptr<ClassifierNet> net_;
  TransformOptions transform_;
  std::vector<std::string> class_names_;
  torch::Device device_;
  GapLinear gap_;
};

/// What this represents: any Backbone (e.g. a detector's) as a ScoreModel without scores (zero columns): the
/// methods that only read layers (filters, activations, top patches, region embeddings) work on it; methods
/// that explain a score need a target (a classifier, or a chosen detection: viz/detection_target.h).
class BackboneScoreModel : public ScoreModel {
 public:
  BackboneScoreModel(std::shared_ptr<Backbone> backbone, std::shared_ptr<torch::nn::Module> owner,
                     TransformOptions transform, torch::Device device);

  std::vector<std::string> layers() const override { return layers_; }
  std::vector<std::string> score_names() const override { return {}; }
  torch::Tensor forward(const torch::Tensor& input, TapMap* maps) override;
  TapMap features(const torch::Tensor& input) override { return backbone_->forward(input); }
  const TransformOptions& transform() const override { return transform_; }
  torch::nn::Module& module() override { return *owner_; }
  torch::Device device() const override { return device_; }

 private:
  std::shared_ptr<Backbone> backbone_;
  std::shared_ptr<torch::nn::Module> owner_;  // the whole network (filters are read from its parameters)
  TransformOptions transform_;
  torch::Device device_;
  std::vector<std::string> layers_;
};

/// The child module registered as "backbone" (every deep family here registers its Backbone under that name,
/// as torchvision does), or nullptr.
std::shared_ptr<Backbone> find_backbone(torch::nn::Module& network);

}  // namespace detlab
