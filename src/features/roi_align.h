// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// roi_align: RoIAlign region features on the shared backbone's maps, one FPN level per box (Faster R-CNN's pooler).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "nn/heads/box_roi_pool.h"
#include "pipeline/build_context.h"
#include "pipeline/stages.h"

namespace detlab {

struct RoiAlignStageOptions {
  MultiScaleRoiAlignOptions pool;  // output_size 7, sampling_ratio 2, aligned false: torchvision's Faster R-CNN
  bool featmaps_given = false;     // false: every backbone map but the FPN's extra levels ("pool", "p6", "p7")
};

/// Keys: featmaps, output_size, sampling_ratio, aligned, canonical_scale, canonical_level.
RoiAlignStageOptions parse_roi_align(const Config& node);

/// What this represents: torchvision's MultiScaleRoIAlign as a feature stage (He et al. 2017's RoIAlign; with
/// several maps, Lin et al. 2017's level assignment k = floor(4 + log2(sqrt(wh) / 224)), see nn/heads/
/// box_roi_pool.h). Output: N x C x output_size x output_size device tensors. Sets ctx.region_shape.
/// requires: ctx.backbone (a backbone stage) with the maps named, all of equal channels.
/// InputError naming the config node otherwise.
std::unique_ptr<FeatureStage> make_roi_align(const RoiAlignStageOptions& opts, BuildContext& ctx,
                                             const std::string& config_file = "", const std::string& config_path = "");

}  // namespace detlab
