// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SetCriterion: matching per decoder layer, then CE (eos-weighted), L1 and GIoU losses over the matched pairs.
#include "nn/detr/set_criterion.h"

#include "nn/losses/cross_entropy.h"
#include "nn/losses/focal_loss.h"
#include "nn/ops/box_iou.h"
#include "nn/ops/boxes.h"

namespace detlab {

SetCriterion::SetCriterion(SetCriterionOptions opts, HungarianMatcher matcher)
    : opts_(opts), matcher_(std::move(matcher)) {
  TORCH_CHECK(opts_.num_classes > 0, "SetCriterion: num_classes must be positive, got ", opts_.num_classes);
  TORCH_CHECK(opts_.eos_coef > 0 && opts_.eos_coef <= 1, "SetCriterion: eos_coef must be in (0, 1], got ",
              opts_.eos_coef);
  TORCH_CHECK(opts_.weight_ce >= 0 && opts_.weight_bbox >= 0 && opts_.weight_giou >= 0,
              "SetCriterion: loss weights must be >= 0, got ", opts_.weight_ce, " ", opts_.weight_bbox, " ",
              opts_.weight_giou);
}

std::map<std::string, at::Tensor> SetCriterion::layer_losses(const at::Tensor& logits, const at::Tensor& boxes,
                                                             const std::vector<SetTarget>& targets,
                                                             const std::vector<MatchIndices>& indices,
                                                             double num_boxes) const {
  const int64_t n = logits.size(0), q = logits.size(1), k = opts_.num_classes;
  const int64_t outputs = opts_.focal ? k : k + 1;
  TORCH_CHECK(logits.dim() == 3 && logits.size(2) == outputs, "SetCriterion: logits must be N x Q x ", outputs,
              ", got ", logits.sizes());
  TORCH_CHECK(boxes.dim() == 3 && boxes.size(0) == n && boxes.size(1) == q && boxes.size(2) == 4,
              "SetCriterion: boxes must be N x Q x 4, got ", boxes.sizes());
  TORCH_CHECK(static_cast<int64_t>(indices.size()) == n && static_cast<int64_t>(targets.size()) == n,
              "SetCriterion: ", indices.size(), " matchings and ", targets.size(), " targets for a batch of ", n);
  TORCH_CHECK(num_boxes > 0, "SetCriterion: num_boxes must be positive, got ", num_boxes);
  const at::Device device = logits.device();

  // Flattened (image, query) positions of the matched predictions and their targets, image by image.
  std::vector<at::Tensor> flat_idx, tgt_labels, tgt_boxes;
  for (int64_t i = 0; i < n; ++i) {
    const MatchIndices& m = indices[static_cast<size_t>(i)];
    if (m.pred.numel() == 0) continue;
    const SetTarget& t = targets[static_cast<size_t>(i)];
    const at::Tensor tj = m.target.to(t.labels.device());
    flat_idx.push_back(m.pred.to(device) + i * q);
    tgt_labels.push_back(t.labels.index_select(0, tj).to(device, at::kLong));
    tgt_boxes.push_back(t.boxes.index_select(0, tj.to(t.boxes.device())).to(device, at::kFloat));
  }
  at::Tensor target_classes = at::full({n * q}, k, at::TensorOptions().dtype(at::kLong).device(device));
  at::Tensor loss_bbox, loss_giou;
  if (!flat_idx.empty()) {
    const at::Tensor idx = at::cat(flat_idx);
    target_classes.index_put_({idx}, at::cat(tgt_labels));
    const at::Tensor src = boxes.reshape({n * q, 4}).index_select(0, idx);
    const at::Tensor tgt = at::cat(tgt_boxes);
    loss_bbox = (src - tgt).abs().sum() / num_boxes;
    const at::Tensor giou =
        generalized_box_iou(box_convert(src, "cxcywh", "xyxy"), box_convert(tgt, "cxcywh", "xyxy"))
            .diag();
    loss_giou = (1 - giou).sum() / num_boxes;
  } else {
    // No targets in the batch: zero box losses that still depend on the predictions (gradient of zeros).
    loss_bbox = boxes.sum() * 0;
    loss_giou = boxes.sum() * 0;
  }
  if (opts_.focal) {
    // One-hot over K + 1 columns, then "no object" dropped: unmatched queries are negatives for every class.
    const at::Tensor onehot =
        at::one_hot(target_classes.view({n, q}), k + 1).narrow(2, 0, k).to(logits.scalar_type());
    FocalLossOptions fo;
    fo.alpha = opts_.focal_alpha;
    fo.gamma = opts_.focal_gamma;
    const at::Tensor loss_ce = sigmoid_focal_loss(logits, onehot, fo).sum() / num_boxes;
    return {{"loss_ce", loss_ce}, {"loss_bbox", loss_bbox}, {"loss_giou", loss_giou}};
  }
  CrossEntropyOptions ce;
  ce.weight = at::ones({k + 1}, logits.options());
  ce.weight.narrow(0, k, 1).fill_(opts_.eos_coef);
  const at::Tensor loss_ce = detlab::cross_entropy_loss(logits.transpose(1, 2), target_classes.view({n, q}), ce);
  return {{"loss_ce", loss_ce}, {"loss_bbox", loss_bbox}, {"loss_giou", loss_giou}};
}

std::map<std::string, at::Tensor> SetCriterion::operator()(const at::Tensor& pred_logits, const at::Tensor& pred_boxes,
                                                           const std::vector<SetTarget>& targets) const {
  TORCH_CHECK(pred_logits.dim() == 4 && pred_boxes.dim() == 4 && pred_logits.size(0) == pred_boxes.size(0),
              "SetCriterion: pred_logits L x N x Q x (K+1) and pred_boxes L x N x Q x 4 expected, got ",
              pred_logits.sizes(), " and ", pred_boxes.sizes());
  int64_t total = 0;
  for (const SetTarget& t : targets) total += t.labels.numel();
  const double num_boxes = std::max<double>(static_cast<double>(total), 1.0);  // DETR clamps at 1

  const int64_t layers = pred_logits.size(0);
  std::map<std::string, at::Tensor> out;
  for (int64_t l = opts_.aux_loss ? 0 : layers - 1; l < layers; ++l) {
    const std::vector<MatchIndices> indices = matcher_(pred_logits[l], pred_boxes[l], targets);
    const std::string suffix = l + 1 == layers ? "" : "_" + std::to_string(l);
    auto losses = layer_losses(pred_logits[l], pred_boxes[l], targets, indices, num_boxes);
    out["loss_ce" + suffix] = losses.at("loss_ce") * opts_.weight_ce;
    out["loss_bbox" + suffix] = losses.at("loss_bbox") * opts_.weight_bbox;
    out["loss_giou" + suffix] = losses.at("loss_giou") * opts_.weight_giou;
  }
  return out;
}

}  // namespace detlab
