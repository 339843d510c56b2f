// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// BackboneWithFpn (see backbone_with_fpn.h).
#include "nn/backbones/backbone_with_fpn.h"

namespace detlab {

BackboneWithFpn::BackboneWithFpn(std::shared_ptr<Backbone> body, const FpnOptions& options) : body_(std::move(body)) {
  TORCH_CHECK(body_, "BackboneWithFpn: body is null");
  const auto body_shapes = body_->output_shape();
  in_features_ = options.in_features.empty() ? features_by_stride(body_shapes) : options.in_features;
  std::vector<int64_t> in_channels;
  int64_t previous_stride = 0;
  for (const auto& f : in_features_) {
    auto it = body_shapes.find(f);
    TORCH_CHECK(it != body_shapes.end(), "BackboneWithFpn: the body has no output '", f, "'");
    TORCH_CHECK(it->second.stride >= previous_stride, "BackboneWithFpn: in_features must be ordered by stride ('",
                f, "' has stride ", it->second.stride, " after ", previous_stride, ")");
    previous_stride = it->second.stride;
    in_channels.push_back(it->second.channels);
  }
  register_module("body", body_);
  fpn_ = register_module("fpn", FeaturePyramidNetwork(in_channels, options));

  for (size_t i = 0; i < in_features_.size(); ++i) {
    shapes_[std::to_string(i)] = ShapeSpec{options.out_channels, body_shapes.at(in_features_[i]).stride};
  }
  int64_t stride = previous_stride;
  for (const auto& name : fpn_->extra_names()) {
    stride *= 2;
    shapes_[name] = ShapeSpec{options.out_channels, stride};
  }
}

std::map<std::string, torch::Tensor> BackboneWithFpn::forward(const torch::Tensor& images) {
  auto features = body_->forward(images);
  std::vector<torch::Tensor> inputs;
  inputs.reserve(in_features_.size());
  for (const auto& f : in_features_) inputs.push_back(features.at(f));
  auto results = fpn_->forward(inputs);
  std::map<std::string, torch::Tensor> out;
  for (size_t i = 0; i < in_features_.size(); ++i) out[std::to_string(i)] = results[i];
  const auto extra = fpn_->extra_names();
  for (size_t j = 0; j < extra.size(); ++j) out[extra[j]] = results[in_features_.size() + j];
  return out;
}

std::map<std::string, ShapeSpec> BackboneWithFpn::output_shape() const { return shapes_; }

}  // namespace detlab
