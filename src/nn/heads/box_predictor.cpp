// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FastRcnnPredictor (see box_predictor.h).
#include "nn/heads/box_predictor.h"

namespace detlab {

FastRcnnPredictorImpl::FastRcnnPredictorImpl(const FastRcnnPredictorOptions& o) : options_(o) {
  TORCH_CHECK(o.in_channels > 0 && o.num_classes >= 2, "FastRcnnPredictor: needs in_channels > 0 and >= 2 classes "
                                                       "(background included), got ", o.in_channels, ", ", o.num_classes);
  cls_score = register_module("cls_score", torch::nn::Linear(o.in_channels, o.num_classes));
  if (o.box_regression) bbox_pred = register_module("bbox_pred", torch::nn::Linear(o.in_channels, 4 * o.num_classes));
}

std::pair<torch::Tensor, torch::Tensor> FastRcnnPredictorImpl::forward(const torch::Tensor& x) {
  if (x.dim() == 4)
    TORCH_CHECK(x.size(2) == 1 && x.size(3) == 1, "FastRcnnPredictor: 4-D input must be K x C x 1 x 1, got ", x.sizes());
  const torch::Tensor flat = x.flatten(1);
  return {cls_score->forward(flat), bbox_pred ? bbox_pred->forward(flat) : torch::Tensor()};
}

}  // namespace detlab
