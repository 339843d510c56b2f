// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// TwoMlpHead (see box_head.h).
#include "nn/heads/box_head.h"

namespace detlab {

TwoMlpHeadImpl::TwoMlpHeadImpl(const TwoMlpHeadOptions& o) : options_(o) {
  TORCH_CHECK(o.in_features > 0 && o.representation_size > 0, "TwoMlpHead: sizes must be positive, got ",
              o.in_features, " and ", o.representation_size);
  fc6 = register_module("fc6", torch::nn::Linear(o.in_features, o.representation_size));
  fc7 = register_module("fc7", torch::nn::Linear(o.representation_size, o.representation_size));
}

torch::Tensor TwoMlpHeadImpl::forward(const torch::Tensor& x) {
  const torch::Tensor flat = x.flatten(1);
  TORCH_CHECK(flat.size(1) == options_.in_features, "TwoMlpHead: expected ", options_.in_features,
              " features per region, got ", flat.size(1));
  return torch::relu(fc7->forward(torch::relu(fc6->forward(flat))));
}

}  // namespace detlab
