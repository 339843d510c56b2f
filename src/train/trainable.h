// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Trainable: the interface a network implements to be trained by the engine (train/engine.h).
#pragma once

#include <map>
#include <string>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "tensor/batch.h"
#include "tensor/transform.h"

namespace detlab {

/// A network with a training objective: a detector (Faster R-CNN, RetinaNet, SSD, YOLO, DETR) or a classifier.
/// The engine owns the loop (data, optimizer, schedule, checkpoints); the implementer owns the model and its
/// losses, as a detectron2 meta-architecture returns its loss dict in training mode.
///
/// Example (a detector holding its module as `model_`, a std::shared_ptr to a torch::nn::Module subclass):
///   class FasterRcnnTrainable : public Trainable {
///    public:
///     torch::nn::Module& module() override { return *model_; }
///     TransformOptions input_transform() const override { return transform_; }
///     std::map<std::string, torch::Tensor> losses(const Batch& b) override {
///       auto features = model_->backbone->forward(b.images);
///       auto [proposals, rpn_losses] = model_->rpn->forward(b.images, features, b.targets, b.meta);
///       auto head_losses = model_->roi_heads->forward(features, proposals, b.targets, b.meta);
///       rpn_losses.insert(head_losses.begin(), head_losses.end());
///       return rpn_losses;   // {"loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg"}
///     }
///   };
///
/// thread safety: the engine calls every method from one thread.
class Trainable {
 public:
  virtual ~Trainable() = default;

  /// The module whose parameters are trained, checkpointed and saved (names from named_parameters() and
  /// named_buffers() are the keys of the weight files). Parameters with requires_grad == false are frozen:
  /// they are saved but not optimized.
  virtual torch::nn::Module& module() = 0;

  /// How images become network input; the engine's loader uses it, and the detector's inference path should
  /// use the same options (make_eval_batch) so that training and testing see the same pixels.
  virtual TransformOptions input_transform() const = 0;

  /// The training losses of one batch.
  /// requires: module() is in training mode and on the batch's device; batch.targets.size() == batch.size().
  /// ensures: every value is a scalar tensor on that device, connected to the parameters it trains; the same
  ///          keys at every call (they are the columns of train_log.csv). The engine minimizes their sum.
  virtual std::map<std::string, torch::Tensor> losses(const Batch& batch) = 0;

  /// Learning-rate multiplier of one parameter (name as in named_parameters()), e.g. 0.1 for a pretrained
  /// backbone as in DETR. The engine forms one optimizer group per distinct (multiplier, weight decay).
  virtual double lr_multiplier(const std::string& param_name) const { return 1.0; }
};

}  // namespace detlab
