// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// MLP: Linear layers with ReLU between them.
#include "nn/detr/mlp.h"

#include <torch/nn/modules/linear.h>

namespace detlab {

MlpImpl::MlpImpl(int64_t input_dim, int64_t hidden_dim, int64_t output_dim, int64_t num_layers) {
  TORCH_CHECK(input_dim > 0 && hidden_dim > 0 && output_dim > 0 && num_layers > 0, "Mlp: sizes must be positive, got ",
              input_dim, " ", hidden_dim, " ", output_dim, " ", num_layers);
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < num_layers; ++i) {
    const int64_t in = i == 0 ? input_dim : hidden_dim, out = i + 1 == num_layers ? output_dim : hidden_dim;
    layers_->push_back(torch::nn::Linear(in, out));
  }
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  const size_t n = layers_->size();
  for (size_t i = 0; i < n; ++i) {
    x = layers_[i]->as<torch::nn::Linear>()->forward(x);
    if (i + 1 < n) x = torch::relu(x);
  }
  return x;
}

}  // namespace detlab
