// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoIHeads: box pooling, box head, predictor, RoI sampling, Fast R-CNN loss and post-processing (torchvision).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/detection/detection_model.h"
#include "nn/heads/box_head.h"
#include "nn/heads/box_predictor.h"
#include "nn/heads/box_roi_pool.h"
#include "nn/modeling/balanced_sampler.h"
#include "nn/modeling/box_coder.h"
#include "nn/modeling/matcher.h"

namespace detlab {

/// Defaults are torchvision's FasterRCNN defaults; Fast R-CNN's paper values in brackets.
struct RoiHeadsOptions {
  double fg_iou_thresh = 0.5;          // RoIs with IoU >= 0.5 to an object are foreground [0.5]
  double bg_iou_thresh = 0.5;          // below 0.5: background [0.5]
  double bg_iou_lo = 0.0;              // background RoIs below this IoU are ignored [0.1]; 0: none (torchvision)
  int64_t batch_size_per_image = 512;  // sampled RoIs per image [64: 128 per mini-batch of 2 images]
  double positive_fraction = 0.25;     // [25 % foreground]
  bool add_gt_proposals = true;        // ground-truth boxes join the RoIs in training (torchvision, Fast R-CNN)
  std::array<double, 4> box_weights = kRoiHeadBoxWeights;
  double box_loss_beta = 1.0 / 9.0;    // smooth L1 beta (torchvision); [1]
  double score_thresh = 0.05;          // inference: class probability a detection needs
  double nms_thresh = 0.5;             // per-class NMS
  int64_t detections_per_img = 100;
  double min_size = 1e-2;              // detections with a side below this (pixels) are dropped (torchvision)
};

/// RoIs sampled for one training step, per image (torchvision's select_training_samples).
struct RoiSamples {
  std::vector<torch::Tensor> proposals;           // per image: S_i x 4
  std::vector<torch::Tensor> labels;              // per image: S_i predictor columns (0 = background), int64
  std::vector<torch::Tensor> regression_targets;  // per image: S_i x 4 deltas to the matched object
};

/// What this represents: torchvision.models.detection.roi_heads.RoIHeads for boxes: `box_roi_pool` (an
/// RoiPooler, no parameters for RoIAlign / RoI pooling), `box_head` (TwoMlpHead, or none: pooled regions go to
/// the predictor flattened), `box_predictor` (FastRcnnPredictor). Labels here are predictor columns (0 =
/// background); the detector maps its own labels onto them. Training: ground truth added to the proposals,
/// Matcher(fg, bg, no low-quality matches), batch_size_per_image RoIs sampled with positive_fraction,
/// loss = cross-entropy + smooth L1 on the true class's deltas of foreground RoIs / number of RoIs.
/// Inference: softmax, decoding, clipping, background dropped, score threshold, small boxes dropped, per-class
/// NMS, detections_per_img best. Same operations as torchvision.
/// Thread safety: one forward at a time.
class RoIHeadsImpl : public torch::nn::Module {
 public:
  /*  requires: box_roi_pool and box_predictor non-null; the head's input size equals the pooler's output size
                (or the predictor's, without a head). */
  RoIHeadsImpl(std::shared_ptr<RoiPooler> box_roi_pool, TwoMlpHead box_head, FastRcnnPredictor box_predictor,
               const RoiHeadsOptions& options);

  /*  requires: proposals and targets one entry per image; target labels in [1, num_classes).
      ensures:  per image, at most batch_size_per_image RoIs (fewer when there are fewer candidates). */
  RoiSamples select_training_samples(const std::vector<torch::Tensor>& proposals,
                                     const std::vector<NetTarget>& targets) const;

  /// Pooled regions (box_roi_pool output) -> (K x num_classes logits, K x 4 num_classes deltas or undefined).
  std::pair<torch::Tensor, torch::Tensor> predict_pooled(const torch::Tensor& pooled);
  /// Pools and predicts the boxes of every image.
  std::pair<torch::Tensor, torch::Tensor> predict(const std::map<std::string, torch::Tensor>& features,
                                                  const torch::Tensor& images, const std::vector<torch::Tensor>& boxes,
                                                  const std::vector<ImageSize>& image_sizes);

  /*  ensures: {"loss_classifier", "loss_box_reg"} (torchvision's keys; no box loss without box regression). */
  std::map<std::string, torch::Tensor> losses(const std::map<std::string, torch::Tensor>& features,
                                              const torch::Tensor& images, const std::vector<torch::Tensor>& proposals,
                                              const std::vector<ImageSize>& image_sizes,
                                              const std::vector<NetTarget>& targets);

  /*  torchvision's postprocess_detections. ensures: labels are predictor columns >= 1. */
  std::vector<NetDetections> postprocess(const torch::Tensor& class_logits, const torch::Tensor& box_regression,
                                         const std::vector<torch::Tensor>& proposals,
                                         const std::vector<ImageSize>& image_sizes) const;

  std::vector<NetDetections> detect(const std::map<std::string, torch::Tensor>& features, const torch::Tensor& images,
                                    const std::vector<torch::Tensor>& proposals,
                                    const std::vector<ImageSize>& image_sizes);

  int64_t num_classes() const { return box_predictor->options().num_classes; }
  const RoiHeadsOptions& options() const { return options_; }
  const BoxCoder& box_coder() const { return box_coder_; }

  std::shared_ptr<RoiPooler> box_roi_pool;
  TwoMlpHead box_head{nullptr};
  FastRcnnPredictor box_predictor{nullptr};

 private:
  RoiHeadsOptions options_;
  BoxCoder box_coder_;
  Matcher matcher_;
  BalancedPositiveNegativeSampler sampler_;
};
TORCH_MODULE(RoIHeads);

/// Fast R-CNN's multi-task loss (torchvision's fastrcnn_loss): cross-entropy over all sampled RoIs, smooth L1
/// (beta, summed) on the deltas of each foreground RoI's own class, divided by the number of RoIs.
/// requires: class_logits K x C; box_regression K x 4C or undefined (then no box loss); labels / targets as
///           RoiSamples (concatenated over images to K rows).
std::map<std::string, torch::Tensor> fast_rcnn_loss(const torch::Tensor& class_logits,
                                                    const torch::Tensor& box_regression,
                                                    const std::vector<torch::Tensor>& labels,
                                                    const std::vector<torch::Tensor>& regression_targets,
                                                    double beta = 1.0 / 9.0);

}  // namespace detlab
