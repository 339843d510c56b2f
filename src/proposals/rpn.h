// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// rpn: Region Proposal Network proposals on the shared backbone's maps (Faster R-CNN), or from a trained model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "nn/heads/rpn.h"
#include "pipeline/build_context.h"
#include "pipeline/stages.h"

namespace detlab {

struct RpnStageOptions {
  RpnOptions rpn;                        // anchors, top-n, NMS, labelling and sampling (nn/heads/rpn.h)
  bool anchors_given = false;            // false: anchors follow the maps (see parse_rpn)
  bool anchor_sizes_flat = false;        // anchor_sizes was one flat list (one level, or one size per map)
  std::vector<std::string> in_features;  // backbone maps read, finest first; empty: every map by stride
  /// A trained staged model folder (detlab train --out DIR) whose backbone and rpn stages this stage reuses,
  /// frozen, with their own backbone: RPN proposals for a pipeline without a torch backbone (HOG + SVM on RPN
  /// proposals). Its config.yaml gives the architecture, backbone.pt and rpn.pt the weights. "" = none.
  std::string model;
};

/// Keys: anchor_sizes (one list per level, or one flat list: three scales on one map / one size per map),
/// aspect_ratios, pre_nms_top_n / post_nms_top_n ({train, test} or one value for both), nms_iou, fg_iou,
/// bg_iou, batch_size_per_image, positive_fraction, score_thresh, min_size, conv_depth, in_features, model.
/// Default anchors (anchor_sizes absent): one map -> 128, 256, 512 (Ren et al. 2015: 3 scales x 3 ratios);
/// L maps -> 32 * 2^l on map l (torchvision's FPN setting). InputError naming the dotted key on a bad value.
RpnStageOptions parse_rpn(const Config& node);

/// The options completed against a backbone's maps (name -> channels, stride): in_features (default: every map
/// by stride), in_channels (equal on every map read), default anchors, a flat anchor list split one per map.
/// InputError naming config_path.in_features / .anchor_sizes when they do not fit the maps.
RpnStageOptions complete_rpn_options(RpnStageOptions opts, const std::map<std::string, FeatureShape>& maps,
                                     const std::string& config_file = "", const std::string& config_path = "");

/// What this represents: the proposal stage of Faster R-CNN (Ren et al. 2015): the RPN (nn/heads/rpn.h) runs on
/// ImageContext::maps and its post-NMS proposals (test top-n) are mapped back to image pixels, sorted by
/// objectness. It implements TorchProposalStage (pipeline/torch_stage.h): the staged detector trains it with
/// the backbone and head (approximate joint training) unless it came from `model`. Saves rpn.pt (and, with
/// `model`, rpn_backbone.pt: the folder is then self-contained).
/// requires: ctx.backbone set (a backbone stage was built) unless opts.model is set; ctx.registries with model.
/// thread safety: propose() may run concurrently (eval mode, no gradients).
/// InputError naming the config / model folder on a missing backbone, map or file.
std::unique_ptr<ProposalStage> make_rpn(const RpnStageOptions& opts, BuildContext& ctx,
                                        const std::string& config_file = "", const std::string& config_path = "");

}  // namespace detlab
