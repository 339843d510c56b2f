// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// roi_pool: Fast R-CNN's RoI max pooling on one map of the shared backbone.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "pipeline/build_context.h"
#include "pipeline/stages.h"

namespace detlab {

struct RoiPoolStageOptions {
  std::string featmap;      // the map pooled; empty: the backbone's map of largest stride <= 16 (VGG16 conv5_3)
  int64_t output_size = 7;  // Fast R-CNN's 7 x 7 (VGG16's fc6 input)
};

/// Keys: featmap, output_size.
RoiPoolStageOptions parse_roi_pool(const Config& node);

/// What this represents: the RoI pooling layer of Fast R-CNN (Girshick 2015, section 2.1): each proposal,
/// projected onto the map with spatial scale 1 / stride and quantised, is max-pooled into an output_size grid
/// (roi_pool). Output: N x C x output_size x output_size device tensors. Sets ctx.region_shape.
/// requires: ctx.backbone with the map. InputError naming the config node otherwise.
std::unique_ptr<FeatureStage> make_roi_pool(const RoiPoolStageOptions& opts, BuildContext& ctx,
                                            const std::string& config_file = "", const std::string& config_path = "");

}  // namespace detlab
