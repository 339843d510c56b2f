// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Detr: forward pass (backbone -> projection -> transformer -> heads), set losses, query-wise inference.
#include "nn/detr/detr.h"

#include <chrono>
#include <cmath>

#include "nn/detr/position_encoding.h"
#include "nn/ops/boxes.h"

namespace detlab {

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string deepest_feature(const Backbone& backbone) {
  const std::vector<std::string> names = features_by_stride(backbone.output_shape());
  TORCH_CHECK(!names.empty(), "Detr: the backbone has no outputs");
  return names.back();
}

SetCriterionOptions criterion_options(const DetrOptions& o) {
  SetCriterionOptions c = o.criterion;
  c.num_classes = o.num_classes;
  return c;
}

HungarianMatcherOptions matcher_options(const DetrOptions& o) {
  HungarianMatcherOptions m = o.matcher;
  m.focal = o.criterion.focal;
  m.focal_alpha = o.criterion.focal_alpha;
  m.focal_gamma = o.criterion.focal_gamma;
  return m;
}

}  // namespace

Detr::Detr(std::shared_ptr<Backbone> backbone, DetrOptions opts)
    : opts_(std::move(opts)), criterion_(criterion_options(opts_), HungarianMatcher(matcher_options(opts_))) {
  TORCH_CHECK(backbone != nullptr, "Detr: null backbone");
  TORCH_CHECK(opts_.num_classes > 0 && opts_.num_queries > 0, "Detr: num_classes (", opts_.num_classes,
              ") and num_queries (", opts_.num_queries, ") must be positive");
  const int64_t d = opts_.transformer.d_model;
  TORCH_CHECK(d > 0 && d % 4 == 0, "Detr: d_model must be a positive multiple of 4 (sine encoding), got ", d);
  TORCH_CHECK(opts_.backbone_lr_multiplier >= 0, "Detr: backbone_lr_multiplier must be >= 0");
  feature_ = opts_.feature.empty() ? deepest_feature(*backbone) : opts_.feature;
  const auto shapes = backbone->output_shape();
  const auto it = shapes.find(feature_);
  TORCH_CHECK(it != shapes.end(), "Detr: the backbone has no output '", feature_, "'");

  // Registration order = DETR's state_dict order: transformer, class_embed, bbox_embed, query_embed,
  // input_proj, backbone.
  transformer_ = register_module("transformer", std::make_shared<Transformer>(opts_.transformer));
  const bool focal = opts_.criterion.focal;
  const int64_t class_outputs = focal ? opts_.num_classes : opts_.num_classes + 1;
  class_embed_ = register_module("class_embed", torch::nn::Linear(d, class_outputs));
  if (focal) {
    // Every class starts at probability 0.01, as RetinaNet's and Deformable DETR's heads: most queries are
    // negatives for every class, and an even start would flood the focal loss with them.
    torch::NoGradGuard no_grad;
    class_embed_->bias.fill_(-std::log((1 - 0.01) / 0.01));
  }
  bbox_embed_ = register_module("bbox_embed", Mlp(d, d, 4, 3));
  TORCH_CHECK(!(opts_.anchor_points && opts_.two_stage),
              "Detr: anchor_points and two_stage exclude each other (two_stage reads the anchors from the image)");
  if (!opts_.anchor_points && !opts_.two_stage) query_embed_ = register_module("query_embed", torch::nn::Embedding(opts_.num_queries, d));
  input_proj_ = register_module("input_proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(it->second.channels, d, 1)));
  backbone_ = register_module("backbone", std::move(backbone));
  if (opts_.anchor_points) {
    // Points spread uniformly over the image at the start (Anchor DETR's initialisation), kept as logits so
    // that a learned point stays inside (0, 1).
    anchor_embed_ = register_module("anchor_embed", torch::nn::Embedding(opts_.num_queries, 4));
    torch::NoGradGuard no_grad;
    using torch::indexing::Slice;
    anchor_embed_->weight.index({Slice(), Slice(0, 2)}).uniform_(0.02, 0.98).logit_();
    anchor_embed_->weight.index({Slice(), Slice(2, 4)}).fill_(std::log(0.1 / 0.9));  // boxes start at 1/10
  }
  if (opts_.two_stage) {
    enc_output_ = register_module("enc_output", torch::nn::Linear(d, d));
    enc_output_norm_ = register_module("enc_output_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
    enc_class_embed_ = register_module("enc_class_embed", torch::nn::Linear(d, class_outputs));
    enc_bbox_embed_ = register_module("enc_bbox_embed", Mlp(d, d, 4, 3));
    if (focal) {
      torch::NoGradGuard no_grad;
      enc_class_embed_->bias.fill_(-std::log((1 - 0.01) / 0.01));
    }
  }
}

torch::Tensor Detr::token_anchors(const torch::Tensor& mask) {
  TORCH_CHECK(mask.dim() == 3, "Detr::token_anchors: mask must be N x h x w, got ", mask.sizes());
  const int64_t h = mask.size(1), w = mask.size(2);
  const auto fopts = torch::TensorOptions().dtype(torch::kFloat).device(mask.device());
  const torch::Tensor valid = mask.logical_not();
  // Unmasked rows / columns of each image (padding is at the bottom and right), at least 1.
  const torch::Tensor valid_h = valid.select(2, 0).sum(1).clamp_min(1).to(torch::kFloat).view({-1, 1, 1});
  const torch::Tensor valid_w = valid.select(1, 0).sum(1).clamp_min(1).to(torch::kFloat).view({-1, 1, 1});
  const torch::Tensor ys = (torch::arange(h, fopts) + 0.5).view({1, h, 1});
  const torch::Tensor xs = (torch::arange(w, fopts) + 0.5).view({1, 1, w});
  const torch::Tensor cx = (xs / valid_w).expand({mask.size(0), h, w});
  const torch::Tensor cy = (ys / valid_h).expand({mask.size(0), h, w});
  const torch::Tensor bw = (2.0 / valid_w).expand({mask.size(0), h, w});
  const torch::Tensor bh = (2.0 / valid_h).expand({mask.size(0), h, w});
  const torch::Tensor boxes = torch::stack({cx, cy, bw, bh}, -1).clamp(1e-4, 1 - 1e-4).logit();
  return boxes.masked_fill(mask.unsqueeze(-1), 0).flatten(1, 2);
}

double Detr::lr_multiplier(const std::string& param_name) const {
  return param_name.rfind("backbone.", 0) == 0 ? opts_.backbone_lr_multiplier : 1.0;
}

DetrOutputs Detr::forward(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes, NetTimes* times) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "Detr: images must be N x 3 x H x W, got ", images.sizes());
  TORCH_CHECK(static_cast<int64_t>(image_sizes.size()) == images.size(0), "Detr: ", image_sizes.size(),
              " image sizes for a batch of ", images.size(0));
  auto start = std::chrono::steady_clock::now();
  const torch::Tensor features = backbone_->forward(images).at(feature_);
  if (times) times->emplace_back("backbone", ms_since(start));

  const torch::Tensor mask = feature_mask(image_sizes, images.size(2), images.size(3), features.size(2),
                                          features.size(3), images.device());
  return forward_features(features, mask, times);
}

torch::Tensor Detr::feature_mask(const std::vector<ImageSize>& image_sizes, int64_t height, int64_t width,
                                 int64_t feature_height, int64_t feature_width, torch::Device device) {
  return resize_mask(padding_mask(image_sizes, height, width, device), feature_height, feature_width);
}

DetrOutputs Detr::forward_features(const torch::Tensor& features, const torch::Tensor& mask, NetTimes* times,
                                   const torch::Tensor& selected) {
  TORCH_CHECK(features.dim() == 4 && mask.dim() == 3 && mask.size(0) == features.size(0) &&
                  mask.size(1) == features.size(2) && mask.size(2) == features.size(3),
              "Detr: features N x C x h x w and mask N x h x w expected, got ", features.sizes(), " and ",
              mask.sizes());
  auto start = std::chrono::steady_clock::now();
  PositionEmbeddingSineOptions pe;
  pe.num_pos_feats = opts_.transformer.d_model / 2;
  const torch::Tensor pos = position_embedding_sine(mask, pe).to(features.dtype());
  if (opts_.two_stage) {
    DetrOutputs out = forward_two_stage(input_proj_(features), mask, pos, selected);
    if (times) times->emplace_back("transformer", ms_since(start));
    return out;
  }
  const torch::Tensor queries =
      opts_.anchor_points ? point_embedding_sine(anchor_embed_->weight.narrow(1, 0, 2).sigmoid(), pe)
                          : query_embed_->weight;
  const torch::Tensor hs = transformer_->forward(input_proj_(features), mask, queries, pos).hs;
  if (times) times->emplace_back("transformer", ms_since(start));

  start = std::chrono::steady_clock::now();
  torch::Tensor box_logits = bbox_embed_(hs);  // L x N x Q x 4
  if (opts_.anchor_points) {
    // The box is an offset from the query's anchor box in logit space (DAB-DETR; Deformable DETR's refinement).
    box_logits = box_logits + anchor_embed_->weight;
  }
  DetrOutputs out{class_embed_(hs), box_logits.sigmoid(), {}, {}};
  if (times) times->emplace_back("heads", ms_since(start));
  return out;
}

DetrOutputs Detr::forward_two_stage(const torch::Tensor& src, const torch::Tensor& mask, const torch::Tensor& pos,
                                    const torch::Tensor& selected) {
  const int64_t n = src.size(0), d = src.size(1);
  const torch::Tensor seq = src.flatten(2).permute({2, 0, 1});  // S x N x E
  const torch::Tensor pos_seq = pos.flatten(2).permute({2, 0, 1});
  const torch::Tensor key_mask = mask.flatten(1);  // N x S
  const torch::Tensor memory = transformer_->encode(seq, key_mask, pos_seq);

  // Every token proposes a box from its own cell; padded tokens are zeroed and selected last.
  torch::Tensor tokens = enc_output_norm_(enc_output_(memory.transpose(0, 1)));  // N x S x E
  tokens = tokens.masked_fill(key_mask.unsqueeze(-1), 0);
  const torch::Tensor enc_logits = enc_class_embed_(tokens);
  const torch::Tensor enc_box_logits = enc_bbox_embed_(tokens) + token_anchors(mask).to(tokens.dtype());

  // The Q best tokens (fewer when the map has fewer tokens) by their best object-class probability. Their boxes
  // are the anchors, detached as in Deformable DETR: the decoder's loss does not move the proposals.
  const int64_t k = std::min<int64_t>(opts_.num_queries, enc_logits.size(1));
  using torch::indexing::Slice;
  const torch::Tensor prob = opts_.criterion.focal ? enc_logits.sigmoid() : enc_logits.softmax(-1);
  const torch::Tensor score =
      std::get<0>(prob.index({Slice(), Slice(), Slice(0, opts_.num_classes)}).max(-1)).masked_fill(key_mask, -1);
  TORCH_CHECK(!selected.defined() || (selected.dim() == 2 && selected.size(0) == n && selected.size(1) == k),
              "Detr: selected tokens must be ", n, " x ", k, ", got ", selected.sizes());
  const torch::Tensor top = selected.defined() ? selected.to(src.device(), torch::kLong)
                                               : std::get<1>(score.topk(k, /*dim=*/1));  // N x k
  const torch::Tensor anchors = enc_box_logits.gather(1, top.unsqueeze(-1).expand({n, k, 4})).detach();

  PositionEmbeddingSineOptions pe;
  pe.num_pos_feats = d / 2;
  const torch::Tensor query_pos =
      point_embedding_sine(anchors.narrow(2, 0, 2).sigmoid().reshape({n * k, 2}), pe).view({n, k, d}).transpose(0, 1);
  // The selected tokens are also the queries' first content (DINO's pure query selection; Efficient DETR): a
  // query starts out knowing what its token saw, instead of having to learn where to look first.
  const torch::Tensor content = tokens.gather(1, top.unsqueeze(-1).expand({n, k, d})).detach().transpose(0, 1);
  const torch::Tensor hs = transformer_->decode(memory, key_mask, pos_seq, query_pos, content);  // L x N x k x E
  return {class_embed_(hs), (bbox_embed_(hs) + anchors).sigmoid(), enc_logits, enc_box_logits.sigmoid(), top};
}

std::vector<NetDetections> Detr::detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                        NetTimes* times) {
  const DetrOutputs out = forward(images, image_sizes, times);
  const auto start = std::chrono::steady_clock::now();
  std::vector<NetDetections> dets = predictions(out, image_sizes);
  if (times) times->emplace_back("post", ms_since(start));
  return dets;
}

std::vector<NetDetections> Detr::predictions(const DetrOutputs& out, const std::vector<ImageSize>& image_sizes,
                                             std::vector<torch::Tensor>* queries) const {
  using torch::indexing::Slice;
  const torch::Tensor prob = opts_.criterion.focal ? out.logits[-1].sigmoid()      // N x Q x K
                                                   : out.logits[-1].softmax(-1);  // N x Q x (K + 1)
  auto [scores, labels] = prob.index({Slice(), Slice(), Slice(0, opts_.num_classes)}).max(-1);
  std::vector<NetDetections> dets;
  for (size_t i = 0; i < image_sizes.size(); ++i) {
    const auto b = static_cast<int64_t>(i);
    const double h = static_cast<double>(image_sizes[i][0]), w = static_cast<double>(image_sizes[i][1]);
    const torch::Tensor scale = torch::tensor({w, h, w, h}, out.boxes.options());
    torch::Tensor boxes = box_convert(out.boxes[-1][b], "cxcywh", "xyxy") * scale;
    boxes = clip_boxes_to_image(boxes, image_sizes[i][0], image_sizes[i][1]);
    const torch::Tensor order = std::get<1>(scores[b].sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
    dets.push_back({boxes.index_select(0, order).to(torch::kFloat), scores[b].index_select(0, order).to(torch::kFloat),
                    labels[b].index_select(0, order)});
    if (queries) queries->push_back(order);
  }
  return dets;
}

std::vector<SetTarget> Detr::to_set_targets(const std::vector<NetTarget>& targets,
                                                const std::vector<ImageSize>& image_sizes) {
  TORCH_CHECK(targets.size() == image_sizes.size(), "Detr: ", targets.size(), " targets for ", image_sizes.size(),
              " images");
  std::vector<SetTarget> out;
  out.reserve(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    const double h = static_cast<double>(image_sizes[i][0]), w = static_cast<double>(image_sizes[i][1]);
    const torch::Tensor boxes = targets[i].boxes.to(torch::kFloat).reshape({-1, 4});
    const torch::Tensor scale = torch::tensor({w, h, w, h}, boxes.options());
    out.push_back({targets[i].labels.to(torch::kLong), box_convert(boxes, "xyxy", "cxcywh") / scale});
  }
  return out;
}

std::map<std::string, torch::Tensor> Detr::losses(const torch::Tensor& images,
                                                  const std::vector<ImageSize>& image_sizes,
                                                  const std::vector<NetTarget>& targets) {
  if (is_training() && opts_.augment.enabled()) {
    auto [input, moved] = random_scale_translate(images, image_sizes, targets, opts_.augment);
    return set_losses(forward(input, image_sizes), to_set_targets(moved, image_sizes));
  }
  return set_losses(forward(images, image_sizes), to_set_targets(targets, image_sizes));
}

std::map<std::string, torch::Tensor> Detr::set_losses(const DetrOutputs& out,
                                                      const std::vector<SetTarget>& targets) const {
  std::map<std::string, torch::Tensor> losses = criterion_(out.logits, out.boxes, targets);
  if (out.enc_logits.defined()) {
    // The encoder tokens under the same matching and weights, as one more auxiliary output.
    for (auto& [key, value] : criterion_(out.enc_logits.unsqueeze(0), out.enc_boxes.unsqueeze(0), targets)) {
      losses.emplace(key + "_enc", value);
    }
  }
  return losses;
}

}  // namespace detlab
