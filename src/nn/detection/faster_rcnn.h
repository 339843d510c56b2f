// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FasterRCNN: backbone -> RPN -> RoI heads as a DetectionModel (torchvision's GeneralizedRCNN / FasterRCNN).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/backbones/backbone.h"
#include "nn/detection/detection_model.h"
#include "nn/heads/roi_heads.h"
#include "nn/heads/rpn.h"
#include "nn/weights/state_dict.h"

namespace detlab {

struct FasterRcnnOptions {
  int64_t num_classes = 91;            // predictor columns, background (0) included: torchvision's COCO models
  /// Detector label k -> predictor column (>= 1). Empty: k + 1 for k < num_classes - 1. A COCO model scored on a
  /// data set of 80 named categories maps each name to torchvision's column (coco_category_names()).
  std::vector<int64_t> label_map;
  RpnOptions rpn;
  std::vector<std::string> rpn_features;  // maps the RPN reads, finest first; empty: every backbone map by stride
  MultiScaleRoiAlignOptions box_roi_pool;
  int64_t representation_size = 1024;     // TwoMlpHead width (torchvision)
  RoiHeadsOptions roi_heads;
};

/// fasterrcnn_resnet50_fpn's settings (torchvision 0.14 defaults) for a backbone with FPN maps "0".."3", "pool".
FasterRcnnOptions fasterrcnn_resnet50_fpn_options(int64_t num_classes = 91);

/// torchvision's COCO category names by predictor column (91 entries: "__background__", "person", ...,
/// "N/A" for the ids COCO 2017 does not use), as in torchvision.models.detection's _COCO_CATEGORIES.
const std::vector<std::string>& coco_category_names();

/// Renames for state dicts written before torchvision 0.13 (the downloadable fasterrcnn_resnet50_fpn_coco .pth
/// files): rpn.head.conv.{weight,bias} -> rpn.head.conv.0.0.*, backbone.fpn.{inner,layer}_blocks.i.* ->
/// backbone.fpn.{inner,layer}_blocks.i.0.* (torchvision upgrades them in _load_from_state_dict).
std::vector<std::pair<std::string, std::string>> faster_rcnn_legacy_renames(int fpn_levels = 4);

/// What this represents: Faster R-CNN (Ren et al. 2015) with torchvision's module structure and parameter names
/// (backbone.body.*, backbone.fpn.*, rpn.head.*, roi_heads.box_head.fc6/fc7, roi_heads.box_predictor.*), so that
/// fasterrcnn_resnet50_fpn's state_dict loads strictly; in eval mode it gives torchvision's proposals and
/// detections on the same normalized batch (the image transform is the caller's: tensor/transform.h).
/// Training is approximate joint training (section 3.2): the RPN's proposals are detached.
///
/// The same class is the joint network of the staged compositions (detectors/staged.h), assembled from the
/// stages' modules; there any part may be absent: no rpn = proposals come from the caller (Fast R-CNN, R-CNN),
/// no backbone = a pooler that reads the image (R-CNN's warped crops), no roi_heads = RPN training only.
/// Labels at this interface are 0..num_classes()-1, mapped to predictor columns by label_map.
/// Thread safety: one forward at a time.
class FasterRCNN : public DetectionModel {
 public:
  /*  The standard model: RPN on options.rpn_features (default: all maps), MultiScaleRoiAlign + TwoMlpHead +
      FastRcnnPredictor. requires: backbone non-null, its maps named as the options say, equal channels. */
  FasterRCNN(std::shared_ptr<Backbone> backbone, const FasterRcnnOptions& options);
  /*  Assembled from parts. requires: rpn empty or rpn_features names rpn->num_levels() backbone maps; label_map
      entries in [1, roi_heads' num_classes) when roi_heads is set; at least one of rpn / roi_heads. */
  FasterRCNN(std::shared_ptr<Backbone> backbone, RegionProposalNetwork rpn, std::vector<std::string> rpn_features,
             RoIHeads roi_heads, std::vector<int64_t> label_map);

  /*  requires: rpn and roi_heads. times: "backbone", "rpn", "roi_heads". */
  std::vector<NetDetections> detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                    NetTimes* times = nullptr) override;
  /*  requires: rpn. ensures: the RPN's and (with roi_heads) the head's torchvision loss keys. */
  std::map<std::string, torch::Tensor> losses(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                              const std::vector<NetTarget>& targets) override;
  /*  Fast R-CNN: the caller's proposals (per image, K_i x 4 batch-tensor pixels) instead of the RPN's.
      requires: roi_heads. */
  std::vector<NetDetections> detect_with_proposals(const torch::Tensor& images,
                                                   const std::vector<ImageSize>& image_sizes,
                                                   const std::vector<torch::Tensor>& proposals,
                                                   NetTimes* times = nullptr);
  std::map<std::string, torch::Tensor> losses_with_proposals(const torch::Tensor& images,
                                                             const std::vector<ImageSize>& image_sizes,
                                                             const std::vector<NetTarget>& targets,
                                                             const std::vector<torch::Tensor>& proposals);

  /// The backbone's maps (empty without a backbone).
  std::map<std::string, torch::Tensor> features(const torch::Tensor& images);
  /// The RPN on those maps (eval mode: test top-n values). requires: rpn.
  RpnOutput propose(const torch::Tensor& images, const std::map<std::string, torch::Tensor>& features,
                    const std::vector<ImageSize>& image_sizes, const std::vector<NetTarget>* targets = nullptr);

  int64_t num_classes() const override { return static_cast<int64_t>(label_map_.size()); }
  const std::vector<int64_t>& label_map() const { return label_map_; }
  const std::vector<std::string>& rpn_features() const { return rpn_features_; }

  std::shared_ptr<Backbone> backbone;
  RegionProposalNetwork rpn{nullptr};
  RoIHeads roi_heads{nullptr};

 private:
  void init(std::vector<int64_t> label_map);
  std::vector<NetTarget> to_columns(const std::vector<NetTarget>& targets) const;
  std::vector<NetDetections> to_labels(std::vector<NetDetections> dets) const;

  std::vector<std::string> rpn_features_;
  std::vector<int64_t> label_map_;
  std::vector<int64_t> column_to_label_;  // predictor column -> label, -1 when no label maps to it
};

}  // namespace detlab
