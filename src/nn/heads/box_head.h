// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// TwoMlpHead: the box head of Faster R-CNN with FPN (torchvision's TwoMLPHead: fc6, fc7).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

namespace detlab {

struct TwoMlpHeadOptions {
  int64_t in_features = 256 * 7 * 7;   // pooled RoI size: FPN width x 7 x 7 (torchvision)
  int64_t representation_size = 1024;  // torchvision's Faster R-CNN; VGG16's fc6 / fc7 are 4096 (Girshick 2015)
};

/// What this represents: two fully connected layers with ReLU on the flattened pooled region (the fc6 / fc7 of
/// Fast R-CNN's VGG16 head, shrunk to 1024 by Lin et al. 2017). Keys fc6.*, fc7.*; PyTorch's default Linear
/// initialisation, as torchvision leaves it.
/// Thread safety: as any torch module.
class TwoMlpHeadImpl : public torch::nn::Module {
 public:
  /*  requires: positive sizes. */
  explicit TwoMlpHeadImpl(const TwoMlpHeadOptions& options);
  /*  requires: x K x ... with in_features elements per row.  ensures: K x representation_size, >= 0. */
  torch::Tensor forward(const torch::Tensor& x);
  const TwoMlpHeadOptions& options() const { return options_; }
  torch::nn::Linear fc6{nullptr}, fc7{nullptr};

 private:
  TwoMlpHeadOptions options_;
};
TORCH_MODULE(TwoMlpHead);

}  // namespace detlab
