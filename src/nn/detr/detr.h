// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Detr: DETR (Carion et al. 2020) as a DetectionModel: backbone, sine positions, transformer, set heads and loss.
#pragma once

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <string>

#include "nn/backbones/backbone.h"
#include "nn/detection/detection_model.h"
#include "nn/detection/yolo_augment.h"
#include "nn/detr/hungarian_matcher.h"
#include "nn/detr/mlp.h"
#include "nn/detr/set_criterion.h"
#include "nn/detr/transformer.h"

namespace detlab {

struct DetrOptions {
  int64_t num_classes = 0;    // K object classes (the model adds "no object" as class K)
  int64_t num_queries = 100;  // DETR's N: comfortably more than the objects of any COCO image
  std::string feature;        // backbone output fed to the transformer; "" = the one of largest stride (C5)
  TransformerOptions transformer;
  HungarianMatcherOptions matcher;
  SetCriterionOptions criterion;    // num_classes is taken from here above
  double backbone_lr_multiplier = 0.1;  // DETR trains the backbone at 1e-5 against 1e-4 for the rest
  // Anchor boxes (Anchor DETR, Wang et al. 2022; DAB-DETR, Liu et al. 2022): each query owns a learned box
  // (x, y, w, h) in [0, 1]^4, its positional query is the sine encoding of the point (x, y) (the encoding the
  // keys' positions use), and its box is predicted as an offset from the anchor in logit space. From scratch, DETR's free query embeddings take hundreds of epochs to
  // become places; anchor points are places from the first step. Off: DETR as published (its checkpoints load).
  bool anchor_points = false;
  // Two-stage query selection (Deformable DETR's two-stage variant, Zhu et al. 2021, section 4.1; DINO's query
  // selection): every encoder token predicts classes and a box (an offset from its own cell) under the same set
  // loss (keys loss_{ce,bbox,giou}_enc), and the Q best-scoring tokens' boxes become the queries' anchors, per
  // image (anchor_points' mechanism, with anchors read from the image instead of learned once for all images).
  // The token heads learn from the first step because a token's place is given; the decoder then refines boxes
  // that already sit on objects. Off: DETR as published.
  bool two_stage = false;
  // Training only: random scaling and translation of each image (YOLO v1's augmentation, standing in for DETR's
  // random resize and crop, which the loader does not do). Off by default.
  ScaleTranslateOptions augment{0.0, 0.0, 0.5};
};

/// DETR's outputs for every decoder layer (the last layer is the prediction; the others feed auxiliary losses).
struct DetrOutputs {
  torch::Tensor logits;  // L x N x Q x (K + 1)
  torch::Tensor boxes;   // L x N x Q x 4: cx, cy, w, h in [0, 1] relative to each image's unpadded size
  torch::Tensor enc_logits;  // two_stage only: N x S x (K + 1) per encoder token (S = h w); undefined otherwise
  torch::Tensor enc_boxes;   // two_stage only: N x S x 4, as boxes
  torch::Tensor selected;    // two_stage only: N x Q long, the encoder token each query was selected from
};

/// What this represents: DETR (models/detr.py). The backbone's feature map goes through a 1x1 input projection
/// to d_model channels; the sine positional encoding of its padding mask and N learned object queries feed the
/// transformer; a linear class head gives K + 1 logits (the last is "no object") and a 3-layer MLP with a sigmoid
/// gives normalized boxes. Training: SetCriterion (Hungarian matching, CE + L1 + GIoU, auxiliary losses per
/// decoder layer). Inference without NMS: per query, score and label = the largest non-"no object"
/// probability; boxes scaled to the image size; all Q queries kept, sorted by score. With anchor_points (see
/// DetrOptions) the queries are `anchor_embed` (Q x 4 logits of boxes) instead of `query_embed`.
/// Parameter names follow DETR's: input_proj, query_embed, class_embed, bbox_embed.layers.i, transformer.* (see
/// nn/detr/transformer.h); the backbone sits under `backbone.` with torchvision names (DETR's checkpoints use
/// `backbone.0.body.`: a prefix rename in nn/weights LoadOptions maps one onto the other).
/// thread safety: see DetectionModel.
class Detr : public DetectionModel {
 public:
  /*  requires: backbone non-null with `feature` among its outputs; num_classes, num_queries > 0;
                transformer.d_model a multiple of 4 (two even halves for the sine encoding). */
  Detr(std::shared_ptr<Backbone> backbone, DetrOptions opts);

  /*  requires: images N x 3 x H x W; sizes as DetectionModel::detect. */
  DetrOutputs forward(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                      NetTimes* times = nullptr);
  /*  Everything after the backbone (DETR's forward from `features, pos = self.backbone(samples)` on).
      requires: features N x C x h x w (the backbone's `feature()` map), mask N x h x w bool (true = padding);
                selected undefined, or (two_stage) N x Q token indices that replace the top-Q selection: the
                queries of an earlier forward (DetrOutputs::selected) held fixed while the input changes, as the
                visualization methods hold a detection's anchor fixed. */
  DetrOutputs forward_features(const torch::Tensor& features, const torch::Tensor& mask, NetTimes* times = nullptr,
                               const torch::Tensor& selected = {});
  /// The padding mask at the feature map's resolution (true = padding), as forward() builds it.
  static torch::Tensor feature_mask(const std::vector<ImageSize>& image_sizes, int64_t height, int64_t width,
                                    int64_t feature_height, int64_t feature_width, torch::Device device);

  /// Each encoder token's cell as a box in logit space: centre ((j + 0.5) / w_valid, (i + 0.5) / h_valid), size
  /// two cells, relative to the image's unpadded part (w_valid, h_valid: its unmasked columns and rows).
  /*  requires: mask N x h x w bool.  ensures: N x (h w) x 4 logits, row-major tokens; padded tokens get 0. */
  static torch::Tensor token_anchors(const torch::Tensor& mask);

  std::vector<NetDetections> detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                    NetTimes* times = nullptr) override;
  /*  detect() after the forward pass: per query, score and label = the largest object-class probability, boxes
      in pixels clipped to the image, all Q queries sorted by score (descending, stable).
      ensures: when queries is set, (*queries)[i] holds image i's query index of each row (Q, long). */
  std::vector<NetDetections> predictions(const DetrOutputs& out, const std::vector<ImageSize>& image_sizes,
                                         std::vector<torch::Tensor>* queries = nullptr) const;
  /// Keys: loss_ce, loss_bbox, loss_giou and, with aux_loss, loss_{ce,bbox,giou}_i for i < L - 1 (weighted);
  /// with two_stage also loss_{ce,bbox,giou}_enc (the encoder tokens' predictions under the same criterion).
  std::map<std::string, torch::Tensor> losses(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                              const std::vector<NetTarget>& targets) override;
  int64_t num_classes() const override { return opts_.num_classes; }
  /// backbone_lr_multiplier for parameters under `backbone.`, 1 otherwise.
  double lr_multiplier(const std::string& param_name) const override;

  /// Targets in DETR's form: boxes x1 y1 x2 y2 in pixels -> cx cy w h divided by the image's (w, h).
  static std::vector<SetTarget> to_set_targets(const std::vector<NetTarget>& targets,
                                                   const std::vector<ImageSize>& image_sizes);

  const DetrOptions& options() const { return opts_; }
  const std::string& feature() const { return feature_; }
  const SetCriterion& criterion() const { return criterion_; }
  /// The encoder-decoder (its attention can be recorded: Transformer::set_record_attention).
  Transformer& transformer() { return *transformer_; }
  const std::shared_ptr<Backbone>& backbone() const { return backbone_; }

 private:
  DetrOptions opts_;
  std::string feature_;
  std::shared_ptr<Backbone> backbone_;
  torch::nn::Conv2d input_proj_{nullptr};
  torch::nn::Embedding query_embed_{nullptr};   // DETR's learned queries (without anchor points)
  torch::nn::Embedding anchor_embed_{nullptr};  // Q x 4 anchor boxes as logits (with anchor points)
  std::shared_ptr<Transformer> transformer_;
  torch::nn::Linear class_embed_{nullptr};
  Mlp bbox_embed_{nullptr};
  // two_stage: the encoder tokens' heads (Deformable DETR's enc_output + enc_output_norm and its extra heads)
  torch::nn::Linear enc_output_{nullptr};
  torch::nn::LayerNorm enc_output_norm_{nullptr};
  torch::nn::Linear enc_class_embed_{nullptr};
  Mlp enc_bbox_embed_{nullptr};
  SetCriterion criterion_;

  std::map<std::string, torch::Tensor> set_losses(const DetrOutputs& out, const std::vector<SetTarget>& targets) const;
  DetrOutputs forward_two_stage(const torch::Tensor& src, const torch::Tensor& mask, const torch::Tensor& pos,
                                const torch::Tensor& selected);
};

}  // namespace detlab
