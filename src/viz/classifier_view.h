// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ClassifierView: what the visualization methods need of a trained crop classifier, without its trainer.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "data/crops.h"
#include "nn/classification/classifier_net.h"
#include "tensor/transform.h"

namespace detlab {

/// What this represents: a trained ClassifierNet and how data reaches it. The classifier that owns it
/// (detectors/crop_classifier.h, CropClassifier::view()) lives above viz/ in the layer order, with the training
/// engine; viz/ sees only this, so running the methods never pulls in the trainer.
struct ClassifierView {
  std::shared_ptr<ClassifierNet> net;
  TransformOptions image_transform;     // whole images (the net is fully convolutional up to its pooling)
  TransformOptions crop_transform;      // crops: fixed crop.size x crop.size, no padding
  CropOptions crop;                     // how crops are cut from a detection data set
  std::vector<std::string> class_names;  // the data set's classes, then "background"
  torch::Device device = torch::kCPU;
};

}  // namespace detlab
