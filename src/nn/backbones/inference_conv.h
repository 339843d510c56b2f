// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// InferenceConv: a convolution and the norm after it, run the way inference wants them (norm folded in,
// channels-last on the CPU) and exactly as written everywhere else.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <memory>

#include "nn/backbones/norm.h"

namespace detlab {

/// What this represents: norm(conv(x)) of a module's registered convolution and (optional) norm, called like a
/// function. It owns no parameters; the modules stay where they are registered, with their names.
///
/// On the inference path (the convolution in eval mode, autograd off: InferenceMode or NoGradGuard) it runs a single convolution whose
/// weights have the norm folded in (weight * scale per output channel, shift as the bias), so no separate pass
/// over the activations; on the CPU with weights and activations in channels-last order, which oneDNN convolves
/// without reordering them on every call. Both are what mmdetection's fuse_conv_bn and torch's
/// optimize_for_inference do. Elsewhere it is exactly norm(conv(x)).
///
/// ensures: the two paths agree up to float rounding (tests/nn/test_inference_conv.cpp); on the CPU inference
///          path the output is channels-last (callers that need NCHW call .contiguous()).
/// The folded weights are cached (one extra copy of the weights) and rebuilt when a source tensor changes (its
/// storage or its version counter: load_state_dict, optimizer steps, to(device)).
/// Thread safety: concurrent calls are safe (the cache is guarded).
class InferenceConv {
 public:
  InferenceConv() = default;
  /*  requires: conv is registered on a module; norm, when given, follows it (conv's output channels). */
  explicit InferenceConv(torch::nn::Conv2d conv, Norm2d norm = {});
  torch::Tensor operator()(const torch::Tensor& x) const;

  explicit operator bool() const { return static_cast<bool>(conv_); }

 private:
  struct Cache;
  torch::Tensor plain(const torch::Tensor& x) const;

  torch::nn::Conv2d conv_{nullptr};
  Norm2d norm_;
  std::shared_ptr<Cache> cache_;
};

}  // namespace detlab
