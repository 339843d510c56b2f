// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoiPoolerStage: a feature stage over any RoiPooler on the backbone's maps (roi_pool, roi_align; torch header).
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>

#include "core/error.h"
#include "nn/heads/box_roi_pool.h"
#include "pipeline/feature_maps.h"
#include "pipeline/stages.h"
#include "pipeline/torch_stage.h"

namespace detlab {

/// What this represents: region features pooled from the shared backbone's maps (ImageContext::maps): the
/// proposals are mapped to network pixels and pooled by the pooler into an N x C x h x w device tensor
/// (RegionFeatures::device) for a network head. No learned state (nothing saved).
/// thread safety: extract() may run concurrently.
class RoiPoolerStage final : public FeatureStage, public TorchFeatureStage {
 public:
  RoiPoolerStage(std::string name, std::shared_ptr<RoiPooler> pooler) : name_(std::move(name)), pooler_(std::move(pooler)) {}

  std::string_view name() const override { return name_; }
  std::shared_ptr<RoiPooler> pooler() const override { return pooler_; }

  RegionFeatures extract(const ImageContext& ctx, const Proposals& proposals) override {
    DETLAB_REQUIRE(ctx.maps != nullptr, name_ + " needs the backbone stage's maps (ImageContext::maps)");
    const auto fm = std::static_pointer_cast<const FeatureMaps>(ctx.maps);
    torch::NoGradGuard no_grad;
    const torch::Tensor boxes = boxes_to_network(proposals, *fm);
    torch::Tensor pooled;
    if (proposals.empty()) {
      std::vector<int64_t> shape{0};
      for (int64_t d : pooler_->output_shape()) shape.push_back(d);
      pooled = torch::zeros(shape, fm->images.options());
    } else {
      pooled = pooler_->forward(fm->maps, fm->images, {boxes}, {fm->image_size()});
    }
    RegionFeatures f;
    f.device_rows = static_cast<int>(proposals.size());
    f.device = std::make_shared<const at::Tensor>(std::move(pooled));
    return f;
  }

 private:
  std::string name_;
  std::shared_ptr<RoiPooler> pooler_;
};

}  // namespace detlab
