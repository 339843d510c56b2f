// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// BackboneWithFpn: a body Backbone followed by an FPN, as torchvision's BackboneWithFPN (keys body.*, fpn.*).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nn/backbones/backbone.h"
#include "nn/backbones/fpn.h"

namespace detlab {

/// What this represents: torchvision.models.detection.backbone_utils.BackboneWithFPN, the `backbone` of
/// fasterrcnn_resnet50_fpn / retinanet_resnet50_fpn (state_dict keys "body.*" and "fpn.*"; a detector that
/// registers it as "backbone" gets torchvision's "backbone.body.*" keys). Outputs "0".."k-1" (one per body
/// feature, finest first, out_channels each, the body feature's stride) plus "pool" or "p6","p7" (each twice
/// the previous stride).
/// Thread safety: see Backbone.
class BackboneWithFpn : public Backbone {
 public:
  /*  requires: body non-null; options.in_features (if set) are body outputs with increasing strides.
      ensures:  the body is registered as "body" and the FPN as "fpn". */
  BackboneWithFpn(std::shared_ptr<Backbone> body, const FpnOptions& options);

  std::map<std::string, torch::Tensor> forward(const torch::Tensor& images) override;
  std::map<std::string, ShapeSpec> output_shape() const override;
  int64_t size_divisibility() const override { return body_->size_divisibility(); }

  const std::shared_ptr<Backbone>& body() const { return body_; }
  const FeaturePyramidNetwork& fpn() const { return fpn_; }
  /// Body features feeding the FPN, finest first.
  const std::vector<std::string>& in_features() const { return in_features_; }

 private:
  std::shared_ptr<Backbone> body_;
  FeaturePyramidNetwork fpn_{nullptr};
  std::vector<std::string> in_features_;
  std::map<std::string, ShapeSpec> shapes_;
};

}  // namespace detlab
