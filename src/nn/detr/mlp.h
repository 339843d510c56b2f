// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// MLP: DETR's box head, a stack of Linear layers with ReLU between them (keys layers.0 .. layers.k-1).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/types.h>

#include <cstdint>

namespace detlab {

/// What this represents: DETR's MLP (models/detr.py): num_layers Linear layers, input_dim -> hidden_dim -> ... ->
/// output_dim, ReLU after every layer but the last. DETR's box head is MLP(d, d, 4, 3) followed by a sigmoid.
/// thread safety: stateless forward.
class MlpImpl : public torch::nn::Module {
 public:
  /*  requires: all sizes > 0. */
  MlpImpl(int64_t input_dim, int64_t hidden_dim, int64_t output_dim, int64_t num_layers);
  /*  requires: x ... x input_dim.  ensures: ... x output_dim. */
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::ModuleList layers_{nullptr};
};
TORCH_MODULE(Mlp);

}  // namespace detlab
