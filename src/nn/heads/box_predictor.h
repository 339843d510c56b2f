// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FastRcnnPredictor: class scores over K+1 classes and class-specific box deltas (torchvision's FastRCNNPredictor).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <utility>

namespace detlab {

struct FastRcnnPredictorOptions {
  int64_t in_channels = 1024;  // the box head's representation size
  int64_t num_classes = 91;    // columns, background at 0 (torchvision's COCO models: 91 category indices)
  bool box_regression = true;  // false: classification only (R-CNN's fine-tuning layer before the SVMs)
};

/// What this represents: Fast R-CNN's sibling output layers (Girshick 2015, section 2.2): a softmax classifier
/// over num_classes columns (column 0 = background) and per-class box deltas (dx, dy, dw, dh) for every column,
/// in the box coder's (10, 10, 5, 5)-weighted units. Keys cls_score.*, bbox_pred.*.
/// Thread safety: as any torch module.
class FastRcnnPredictorImpl : public torch::nn::Module {
 public:
  /*  requires: in_channels > 0; num_classes >= 2. */
  explicit FastRcnnPredictorImpl(const FastRcnnPredictorOptions& options);
  /*  requires: x K x in_channels (or K x in_channels x 1 x 1).
      ensures:  (K x num_classes logits, K x 4 num_classes deltas, or an undefined tensor without box_regression). */
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);
  const FastRcnnPredictorOptions& options() const { return options_; }
  torch::nn::Linear cls_score{nullptr}, bbox_pred{nullptr};

 private:
  FastRcnnPredictorOptions options_;
};
TORCH_MODULE(FastRcnnPredictor);

}  // namespace detlab
