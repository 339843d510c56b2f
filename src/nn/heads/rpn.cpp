// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RegionProposalNetwork (see rpn.h): torchvision's rpn.py operations in the same order.
#include "nn/heads/rpn.h"

#include <algorithm>

#include "nn/losses/smooth_l1.h"
#include "nn/ops/box_iou.h"
#include "nn/ops/boxes.h"
#include "nn/ops/nms.h"

namespace detlab {

namespace {

/// (N, A*C, H, W) -> (N, H*W*A, C): torchvision's permute_and_flatten.
torch::Tensor permute_and_flatten(const torch::Tensor& layer, int64_t n, int64_t c, int64_t h, int64_t w) {
  return layer.view({n, -1, c, h, w}).permute({0, 3, 4, 1, 2}).reshape({n, -1, c});
}

}  // namespace

AnchorGeneratorOptions fpn_rpn_anchors(const std::vector<double>& sizes, const std::vector<double>& aspect_ratios) {
  AnchorGeneratorOptions o;
  o.sizes.clear();
  for (double s : sizes) o.sizes.push_back({s});
  o.aspect_ratios = {aspect_ratios};
  return o;
}

RegionProposalNetworkImpl::RegionProposalNetworkImpl(const RpnOptions& o)
    : options_(o),
      anchor_generator_(o.anchors),
      box_coder_(kRpnBoxWeights),
      matcher_(MatcherOptions{o.fg_iou_thresh, o.bg_iou_thresh, /*allow_low_quality_matches=*/true}),
      sampler_(BalancedSamplerOptions{o.batch_size_per_image, o.positive_fraction}) {
  const std::vector<int64_t> per_location = anchor_generator_.num_anchors_per_location();
  for (int64_t a : per_location)
    TORCH_CHECK(a == per_location[0], "RegionProposalNetwork: every level needs the same number of anchors per "
                                      "location (the head is shared), got ", per_location);
  TORCH_CHECK(o.pre_nms_top_n_train > 0 && o.pre_nms_top_n_test > 0 && o.post_nms_top_n_train > 0 &&
                  o.post_nms_top_n_test > 0,
              "RegionProposalNetwork: top-n values must be positive");
  TORCH_CHECK(o.nms_thresh > 0 && o.nms_thresh <= 1, "RegionProposalNetwork: nms_thresh must be in (0, 1], got ",
              o.nms_thresh);
  // Anchor options with one ratio list for all levels are expanded by the generator; keep ours consistent.
  if (options_.anchors.aspect_ratios.size() == 1 && options_.anchors.sizes.size() > 1)
    options_.anchors.aspect_ratios.assign(options_.anchors.sizes.size(), options_.anchors.aspect_ratios[0]);
  RpnHeadOptions h;
  h.in_channels = o.in_channels;
  h.num_anchors = per_location[0];
  h.conv_depth = o.conv_depth;
  head = register_module("head", RpnHead(h));
}

std::vector<torch::Tensor> RegionProposalNetworkImpl::label_anchors(const std::vector<torch::Tensor>& anchors,
                                                                    const std::vector<NetTarget>& targets,
                                                                    std::vector<torch::Tensor>* matched_gt_boxes) const {
  TORCH_CHECK(anchors.size() == targets.size(), "RegionProposalNetwork: ", anchors.size(), " anchor sets for ",
              targets.size(), " targets");
  std::vector<torch::Tensor> labels;
  for (size_t i = 0; i < anchors.size(); ++i) {
    const torch::Tensor& a = anchors[i];
    const torch::Tensor gt = targets[i].boxes.to(a.options());
    if (gt.numel() == 0) {
      // An image without objects: every anchor is background.
      matched_gt_boxes->push_back(torch::zeros(a.sizes(), a.options().dtype(torch::kFloat)));
      labels.push_back(torch::zeros({a.size(0)}, a.options().dtype(torch::kFloat)));
      continue;
    }
    const torch::Tensor matched = matcher_(box_iou(gt, a));
    matched_gt_boxes->push_back(gt.index_select(0, matched.clamp_min(0)));
    torch::Tensor l = (matched >= 0).to(torch::kFloat);
    l.masked_fill_(matched == Matcher::kBelowLowThreshold, 0.0);
    l.masked_fill_(matched == Matcher::kBetweenThresholds, -1.0);
    labels.push_back(l);
  }
  return labels;
}

RpnOutput RegionProposalNetworkImpl::forward(const torch::Tensor& images, const std::vector<torch::Tensor>& features,
                                             const std::vector<ImageSize>& image_sizes,
                                             const std::vector<NetTarget>* targets) {
  TORCH_CHECK(images.dim() == 4, "RegionProposalNetwork: images must be N x C x H x W, got ", images.sizes());
  TORCH_CHECK(features.size() == num_levels(), "RegionProposalNetwork: ", features.size(),
              " feature maps for anchors on ", num_levels(), " levels");
  const int64_t n = images.size(0);
  TORCH_CHECK(static_cast<int64_t>(image_sizes.size()) == n, "RegionProposalNetwork: ", image_sizes.size(),
              " image sizes for a batch of ", n);
  TORCH_CHECK(!targets || static_cast<int64_t>(targets->size()) == n, "RegionProposalNetwork: ", targets->size(),
              " targets for a batch of ", n);

  auto [logits_per_level, deltas_per_level] = head->forward(features);
  const std::vector<torch::Tensor> anchors = anchor_generator_.forward(images, features);

  // concat_box_prediction_layers: per level (N, H W A, C), concatenated over levels.
  std::vector<int64_t> anchors_per_level;
  std::vector<torch::Tensor> cls_flat, box_flat;
  for (size_t l = 0; l < logits_per_level.size(); ++l) {
    const torch::Tensor& c = logits_per_level[l];
    const torch::Tensor& b = deltas_per_level[l];
    const int64_t a = b.size(1) / 4, h = c.size(2), w = c.size(3);
    anchors_per_level.push_back(a * h * w);
    cls_flat.push_back(permute_and_flatten(c, n, c.size(1) / a, h, w));
    box_flat.push_back(permute_and_flatten(b, n, 4, h, w));
  }
  const torch::Tensor objectness = torch::cat(cls_flat, 1).flatten(0, -2);  // (N * total) x 1
  const torch::Tensor pred_deltas = torch::cat(box_flat, 1).reshape({-1, 4});

  RpnOutput out;
  {
    torch::NoGradGuard no_grad;  // the proposal layer is not differentiated (approximate joint training)
    const torch::Tensor proposals = box_coder_.decode(pred_deltas.detach(), anchors).view({n, -1, 4});
    const torch::Tensor obj = objectness.detach().reshape({n, -1});
    std::vector<torch::Tensor> level_ids;
    for (size_t l = 0; l < anchors_per_level.size(); ++l)
      level_ids.push_back(torch::full({anchors_per_level[l]}, static_cast<int64_t>(l),
                                      obj.options().dtype(torch::kLong)));
    const torch::Tensor levels = torch::cat(level_ids, 0).reshape({1, -1}).expand_as(obj);

    // Per level, the pre_nms_top_n best logits of each image.
    const int64_t pre_n = is_training() ? options_.pre_nms_top_n_train : options_.pre_nms_top_n_test;
    std::vector<torch::Tensor> top_idx;
    int64_t offset = 0;
    const std::vector<torch::Tensor> per_level = obj.split_with_sizes(anchors_per_level, 1);
    for (const torch::Tensor& ob : per_level) {
      const int64_t k = std::min(pre_n, ob.size(1));
      top_idx.push_back(std::get<1>(ob.topk(k, 1)) + offset);
      offset += ob.size(1);
    }
    const torch::Tensor idx = torch::cat(top_idx, 1);
    const torch::Tensor batch_idx = torch::arange(n, idx.options()).unsqueeze(1);
    const torch::Tensor top_obj = obj.index({batch_idx, idx});
    const torch::Tensor top_levels = levels.index({batch_idx, idx});
    const torch::Tensor top_boxes = proposals.index({batch_idx, idx});
    const torch::Tensor probs = torch::sigmoid(top_obj);

    const int64_t post_n = is_training() ? options_.post_nms_top_n_train : options_.post_nms_top_n_test;
    for (int64_t i = 0; i < n; ++i) {
      torch::Tensor boxes = clip_boxes_to_image(top_boxes[i], image_sizes[i][0], image_sizes[i][1]);
      torch::Tensor scores = probs[i], lvl = top_levels[i];
      torch::Tensor keep = remove_small_boxes(boxes, options_.min_size);
      boxes = boxes.index_select(0, keep);
      scores = scores.index_select(0, keep);
      lvl = lvl.index_select(0, keep);
      keep = torch::where(scores >= options_.score_thresh)[0];
      boxes = boxes.index_select(0, keep);
      scores = scores.index_select(0, keep);
      lvl = lvl.index_select(0, keep);
      keep = batched_nms(boxes, scores, lvl, options_.nms_thresh);
      keep = keep.slice(0, 0, std::min<int64_t>(post_n, keep.size(0)));
      out.boxes.push_back(boxes.index_select(0, keep));
      out.scores.push_back(scores.index_select(0, keep));
    }
  }

  if (targets) {
    std::vector<torch::Tensor> matched_gt;
    std::vector<torch::Tensor> labels = label_anchors(anchors, *targets, &matched_gt);
    const std::vector<torch::Tensor> regression_targets = box_coder_.encode(matched_gt, anchors);
    std::vector<torch::Tensor> int_labels;
    for (const torch::Tensor& l : labels) int_labels.push_back(l.to(torch::kLong));
    auto [pos_masks, neg_masks] = sampler_(int_labels);
    const torch::Tensor pos = torch::where(torch::cat(pos_masks, 0))[0];
    const torch::Tensor neg = torch::where(torch::cat(neg_masks, 0))[0];
    const torch::Tensor sampled = torch::cat({pos, neg}, 0);
    const torch::Tensor all_labels = torch::cat(labels, 0);
    const torch::Tensor all_targets = torch::cat(regression_targets, 0);
    const torch::Tensor box_loss = detlab::smooth_l1_loss(pred_deltas.index_select(0, pos),
                                                      all_targets.index_select(0, pos), kRcnnSmoothL1Beta,
                                                      Reduction::kSum) /
                                   static_cast<double>(sampled.numel());
    const torch::Tensor obj_loss = torch::binary_cross_entropy_with_logits(
        objectness.flatten().index_select(0, sampled), all_labels.index_select(0, sampled));
    out.losses["loss_objectness"] = obj_loss;
    out.losses["loss_rpn_box_reg"] = box_loss;
  }
  return out;
}

}  // namespace detlab
