// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoIHeads (see roi_heads.h): torchvision's roi_heads.py box path, the same operations in the same order.
#include "nn/heads/roi_heads.h"

#include "nn/losses/cross_entropy.h"
#include "nn/losses/smooth_l1.h"
#include "nn/ops/box_iou.h"
#include "nn/ops/boxes.h"
#include "nn/ops/nms.h"

namespace detlab {

RoIHeadsImpl::RoIHeadsImpl(std::shared_ptr<RoiPooler> pool, TwoMlpHead head, FastRcnnPredictor predictor,
                           const RoiHeadsOptions& o)
    : box_roi_pool(std::move(pool)),
      box_head(std::move(head)),
      box_predictor(std::move(predictor)),
      options_(o),
      box_coder_(o.box_weights),
      matcher_(MatcherOptions{o.fg_iou_thresh, o.bg_iou_thresh, /*allow_low_quality_matches=*/false}),
      sampler_(BalancedSamplerOptions{o.batch_size_per_image, o.positive_fraction}) {
  TORCH_CHECK(box_roi_pool != nullptr && !box_predictor.is_empty(), "RoIHeads: box_roi_pool and box_predictor are required");
  TORCH_CHECK(o.bg_iou_lo >= 0 && o.bg_iou_lo <= o.bg_iou_thresh, "RoIHeads: bg_iou_lo (", o.bg_iou_lo,
              ") must lie in [0, bg_iou_thresh = ", o.bg_iou_thresh, "]");
  int64_t pooled = 1;
  for (int64_t d : box_roi_pool->output_shape()) pooled *= d;
  const int64_t predictor_in = box_predictor->options().in_channels;
  if (!box_head.is_empty()) {
    TORCH_CHECK(box_head->options().in_features == pooled, "RoIHeads: the box head takes ", box_head->options().in_features,
                " features per region, the pooler gives ", pooled);
    TORCH_CHECK(box_head->options().representation_size == predictor_in, "RoIHeads: the box head gives ",
                box_head->options().representation_size, " features, the predictor takes ", predictor_in);
  } else {
    TORCH_CHECK(pooled == predictor_in, "RoIHeads: the pooler gives ", pooled, " features, the predictor takes ",
                predictor_in);
  }
  register_module("box_roi_pool", box_roi_pool);
  if (!box_head.is_empty()) register_module("box_head", box_head);
  register_module("box_predictor", box_predictor);
}

RoiSamples RoIHeadsImpl::select_training_samples(const std::vector<torch::Tensor>& proposals_in,
                                                 const std::vector<NetTarget>& targets) const {
  TORCH_CHECK(proposals_in.size() == targets.size(), "RoIHeads: ", proposals_in.size(), " proposal lists for ",
              targets.size(), " targets");
  RoiSamples s;
  std::vector<torch::Tensor> matched_idxs, labels, proposals, gt_boxes;
  for (size_t i = 0; i < proposals_in.size(); ++i) {
    const torch::Tensor& p0 = proposals_in[i];
    const torch::Tensor gt = targets[i].boxes.to(p0.options());
    const torch::Tensor p = options_.add_gt_proposals ? torch::cat({p0, gt}, 0) : p0;
    const auto long_opt = p.options().dtype(torch::kLong);
    torch::Tensor m, l;
    if (gt.numel() == 0) {
      m = torch::zeros({p.size(0)}, long_opt);
      l = torch::zeros({p.size(0)}, long_opt);
      if (options_.bg_iou_lo > 0) l.fill_(-1);  // every RoI has IoU 0 < bg_iou_lo
    } else {
      const torch::Tensor quality = box_iou(gt, p);
      const torch::Tensor matched = matcher_(quality);
      m = matched.clamp_min(0);
      const torch::Tensor gt_labels = targets[i].labels.to(long_opt);
      TORCH_CHECK(gt_labels.numel() == 0 || gt_labels.min().item<int64_t>() >= 1,
                  "RoIHeads: target labels are predictor columns >= 1 (0 is background)");
      l = gt_labels.index_select(0, m).clone();
      const torch::Tensor bg = matched == Matcher::kBelowLowThreshold;
      l.masked_fill_(bg, 0);
      l.masked_fill_(matched == Matcher::kBetweenThresholds, -1);
      if (options_.bg_iou_lo > 0) l.masked_fill_(bg & (std::get<0>(quality.max(0)) < options_.bg_iou_lo), -1);
    }
    matched_idxs.push_back(m);
    labels.push_back(l);
    proposals.push_back(p);
    gt_boxes.push_back(gt);
  }
  auto [pos, neg] = sampler_(labels);
  std::vector<torch::Tensor> matched_gt;
  for (size_t i = 0; i < proposals.size(); ++i) {
    const torch::Tensor keep = torch::where(pos[i] | neg[i])[0];
    s.proposals.push_back(proposals[i].index_select(0, keep));
    s.labels.push_back(labels[i].index_select(0, keep));
    torch::Tensor gt = gt_boxes[i];
    if (gt.numel() == 0) gt = torch::zeros({1, 4}, proposals[i].options());
    matched_gt.push_back(gt.index_select(0, matched_idxs[i].index_select(0, keep)));
  }
  s.regression_targets = box_coder_.encode(matched_gt, s.proposals);
  return s;
}

std::pair<torch::Tensor, torch::Tensor> RoIHeadsImpl::predict_pooled(const torch::Tensor& pooled) {
  const torch::Tensor x = box_head.is_empty() ? pooled.flatten(1) : box_head->forward(pooled);
  return box_predictor->forward(x);
}

std::pair<torch::Tensor, torch::Tensor> RoIHeadsImpl::predict(const std::map<std::string, torch::Tensor>& features,
                                                              const torch::Tensor& images,
                                                              const std::vector<torch::Tensor>& boxes,
                                                              const std::vector<ImageSize>& image_sizes) {
  return predict_pooled(box_roi_pool->forward(features, images, boxes, image_sizes));
}

std::map<std::string, torch::Tensor> fast_rcnn_loss(const torch::Tensor& class_logits,
                                                    const torch::Tensor& box_regression,
                                                    const std::vector<torch::Tensor>& labels_per_image,
                                                    const std::vector<torch::Tensor>& targets_per_image, double beta) {
  const torch::Tensor labels = torch::cat(labels_per_image, 0);
  TORCH_CHECK(class_logits.dim() == 2 && class_logits.size(0) == labels.size(0), "fast_rcnn_loss: ",
              class_logits.sizes(), " logits for ", labels.size(0), " labels");
  std::map<std::string, torch::Tensor> out;
  if (labels.numel() == 0) {
    // No RoI survived sampling (only possible with bg_iou_lo > 0 on images without objects): zero losses that
    // still reach the parameters, so the step is a no-op instead of a NaN.
    const torch::Tensor zero = class_logits.sum() * 0.0;
    out["loss_classifier"] = zero;
    if (box_regression.defined()) out["loss_box_reg"] = zero + box_regression.sum() * 0.0;
    return out;
  }
  out["loss_classifier"] = detlab::cross_entropy_loss(class_logits, labels);
  if (box_regression.defined()) {
    const torch::Tensor targets = torch::cat(targets_per_image, 0);
    const torch::Tensor pos = torch::where(labels > 0)[0];
    const torch::Tensor labels_pos = labels.index_select(0, pos);
    const int64_t n = class_logits.size(0);
    const torch::Tensor deltas = box_regression.reshape({n, box_regression.size(-1) / 4, 4});
    const torch::Tensor box_loss = detlab::smooth_l1_loss(deltas.index({pos, labels_pos}), targets.index_select(0, pos),
                                                      beta, Reduction::kSum);
    out["loss_box_reg"] = box_loss / static_cast<double>(labels.numel());
  }
  return out;
}

std::map<std::string, torch::Tensor> RoIHeadsImpl::losses(const std::map<std::string, torch::Tensor>& features,
                                                          const torch::Tensor& images,
                                                          const std::vector<torch::Tensor>& proposals,
                                                          const std::vector<ImageSize>& image_sizes,
                                                          const std::vector<NetTarget>& targets) {
  const RoiSamples s = select_training_samples(proposals, targets);
  auto [logits, deltas] = predict(features, images, s.proposals, image_sizes);
  return fast_rcnn_loss(logits, deltas, s.labels, s.regression_targets, options_.box_loss_beta);
}

std::vector<NetDetections> RoIHeadsImpl::postprocess(const torch::Tensor& class_logits,
                                                     const torch::Tensor& box_regression,
                                                     const std::vector<torch::Tensor>& proposals,
                                                     const std::vector<ImageSize>& image_sizes) const {
  TORCH_CHECK(box_regression.defined(), "RoIHeads: detection needs a predictor with box regression");
  const int64_t c = class_logits.size(-1);
  std::vector<int64_t> per_image;
  for (const torch::Tensor& p : proposals) per_image.push_back(p.size(0));
  const torch::Tensor pred_boxes = box_coder_.decode(box_regression, proposals);
  const torch::Tensor pred_scores = torch::softmax(class_logits, -1);
  const std::vector<torch::Tensor> boxes_list = pred_boxes.split_with_sizes(per_image, 0);
  const std::vector<torch::Tensor> scores_list = pred_scores.split_with_sizes(per_image, 0);
  std::vector<NetDetections> out;
  for (size_t i = 0; i < proposals.size(); ++i) {
    torch::Tensor boxes = clip_boxes_to_image(boxes_list[i], image_sizes[i][0], image_sizes[i][1]);
    torch::Tensor scores = scores_list[i];
    torch::Tensor labels =
        torch::arange(c, scores.options().dtype(torch::kLong)).view({1, -1}).expand_as(scores);
    // Drop the background column, then one candidate per (RoI, class).
    boxes = boxes.slice(1, 1).reshape({-1, 4});
    scores = scores.slice(1, 1).reshape({-1});
    labels = labels.slice(1, 1).reshape({-1});
    torch::Tensor keep = torch::where(scores > options_.score_thresh)[0];
    boxes = boxes.index_select(0, keep);
    scores = scores.index_select(0, keep);
    labels = labels.index_select(0, keep);
    keep = remove_small_boxes(boxes, options_.min_size);
    boxes = boxes.index_select(0, keep);
    scores = scores.index_select(0, keep);
    labels = labels.index_select(0, keep);
    keep = batched_nms(boxes, scores, labels, options_.nms_thresh);
    keep = keep.slice(0, 0, std::min<int64_t>(options_.detections_per_img, keep.size(0)));
    out.push_back({boxes.index_select(0, keep), scores.index_select(0, keep), labels.index_select(0, keep)});
  }
  return out;
}

std::vector<NetDetections> RoIHeadsImpl::detect(const std::map<std::string, torch::Tensor>& features,
                                                const torch::Tensor& images,
                                                const std::vector<torch::Tensor>& proposals,
                                                const std::vector<ImageSize>& image_sizes) {
  auto [logits, deltas] = predict(features, images, proposals, image_sizes);
  return postprocess(logits, deltas, proposals, image_sizes);
}

}  // namespace detlab
