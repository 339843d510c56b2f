// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// InferenceConv (see inference_conv.h).
#include "nn/backbones/inference_conv.h"

#include <ATen/core/grad_mode.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/variant.h>

#include <mutex>
#include <utility>
#include <vector>

namespace detlab {

namespace {

// Training, and eval with gradients (saliency, Grad-CAM), keep the plain path.
bool inference_path(const torch::nn::Module& module) {
  return !module.is_training() && !at::GradMode::is_enabled();
}

}  // namespace

/// The folded weights and aliases of the tensors they were made from. A source is the same when its data
/// pointer, shape and version counter are: set_data swaps the storage under the same tensor, in-place updates
/// bump the version. Holding the aliases keeps a replaced storage alive, so a new one can never reuse its
/// address and pass for it.
/// A source that is an inference tensor has no version counter; then nothing is cached (rebuilt on every call),
/// which is correct if slower.
struct InferenceConv::Cache {
  std::mutex mutex;
  std::vector<torch::Tensor> sources;
  std::vector<int64_t> versions;
  bool channels_last = false;
  torch::Tensor weight, bias;

  bool matches(const std::vector<torch::Tensor>& now, bool cl) const {
    if (!weight.defined() || cl != channels_last || now.size() != sources.size()) return false;
    for (size_t i = 0; i < now.size(); ++i) {
      if (now[i].defined() != sources[i].defined()) return false;
      if (now[i].defined() && (now[i].data_ptr() != sources[i].data_ptr() || now[i].sizes() != sources[i].sizes() ||
                               now[i]._version() != versions[i])) {
        return false;
      }
    }
    return true;
  }
  void remember(const std::vector<torch::Tensor>& now, bool cl, torch::Tensor w, torch::Tensor b) {
    sources.clear();
    versions.clear();
    for (const auto& t : now) {
      sources.push_back(t.defined() ? t.detach() : t);  // detach: a new alias of the same storage
      versions.push_back(t.defined() ? t._version() : 0);
    }
    channels_last = cl, weight = std::move(w), bias = std::move(b);
  }
};

InferenceConv::InferenceConv(torch::nn::Conv2d conv, Norm2d norm)
    : conv_(std::move(conv)), norm_(std::move(norm)), cache_(std::make_shared<Cache>()) {
  TORCH_CHECK(conv_, "InferenceConv: the convolution is null");
}

torch::Tensor InferenceConv::plain(const torch::Tensor& x) const {
  torch::Tensor y = conv_.ptr()->forward(x);
  return norm_ ? norm_(y) : y;
}

torch::Tensor InferenceConv::operator()(const torch::Tensor& x) const {
  TORCH_CHECK(conv_, "InferenceConv: called before construction");
  const auto& o = conv_->options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (!inference_path(*conv_) || (norm_ && norm_.is_training()) || padding == nullptr ||
      !c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode()) || x.dim() != 4) {
    return plain(x);
  }
  // Parameters made inside an InferenceMode guard carry no version counter: the cache could not tell
  // when they change, so those are folded afresh on each call.
  std::vector<torch::Tensor> sources = {conv_->weight, conv_->bias};
  for (auto& t : norm_.state()) sources.push_back(t);
  bool cacheable = true;
  for (const auto& t : sources) cacheable = cacheable && !(t.defined() && t.is_inference());
  const bool channels_last = x.is_cpu();

  torch::Tensor weight, bias;
  {
    std::unique_lock<std::mutex> lock(cache_->mutex);
    if (cacheable && cache_->matches(sources, channels_last)) {
      weight = cache_->weight, bias = cache_->bias;
    } else {
      // Normal (non-inference) tensors, so that the cache may also serve calls outside InferenceMode.
      c10::InferenceMode normal_tensors(false);
      torch::NoGradGuard no_grad;
      weight = conv_->weight.detach(), bias = conv_->bias.defined() ? conv_->bias.detach() : torch::Tensor();
      torch::Tensor scale, shift;
      if (norm_) {
        if (!norm_.affine_form(&scale, &shift)) {
          lock.unlock();
          return plain(x);
        }
        weight = weight * scale.reshape({-1, 1, 1, 1});
        bias = bias.defined() ? bias * scale + shift : shift;
      }
      weight = channels_last ? weight.contiguous(torch::MemoryFormat::ChannelsLast) : weight.contiguous();
      if (cacheable) cache_->remember(sources, channels_last, weight, bias);
    }
  }
  const torch::Tensor input = channels_last ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
  return torch::conv2d(input, weight, bias, o.stride(), *padding, o.dilation(), o.groups());
}

}  // namespace detlab
