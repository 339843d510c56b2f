// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// YoloV1: YOLO v1 (Redmon et al. 2016) as a DetectionModel: backbone, grid head, sum-squared loss, NMS decoding.
#pragma once

#include <memory>
#include <string>

#include "nn/backbones/backbone.h"
#include "nn/detection/detection_model.h"
#include "nn/detection/yolo_augment.h"
#include "nn/heads/yolo_head.h"
#include "nn/heads/yolo_loss.h"

namespace detlab {

struct YoloV1Options {
  int64_t num_classes = 0;     // C
  std::string feature;         // backbone output the head reads; "" = the one of largest stride
  YoloV1HeadOptions head;  // grid_size (S), num_boxes (B), widths; in_channels / num_classes filled in
  YoloV1LossOptions loss;
  ScaleTranslateOptions augment;  // training only: the paper's random scaling and translation (up to 20%)
  double score_thresh = 0.01;    // class-specific confidence below this is dropped (low: AP integrates the tail)
  double nms_iou = 0.5;          // per-class NMS, as the paper's non-maximal suppression
  int64_t pre_nms_top_k = 1000;  // candidates per image entering NMS (S*S*B*C can reach tens of thousands)
  int64_t detections_per_img = 100;
};

/// What this represents: YOLO v1. The image is divided into an S x S grid; each cell predicts B boxes (centre
/// offsets in the cell, square roots of width and height relative to the image, confidence) and one class
/// distribution. Inference: class-specific confidence p(c | cell) * confidence per box and class (both clamped
/// to [0, 1]: the outputs are linear), score threshold, top-k, per-class NMS, top detections_per_img.
/// The grid spans the whole input tensor, which must equal the image (a fixed input size, as the paper's 448 x 448):
/// detect() and losses() require image_sizes[i] == (H, W).
/// Parameter names: backbone.* (torchvision names), head.convs.*, head.predictor.*.
/// thread safety: see DetectionModel.
class YoloV1 : public DetectionModel {
 public:
  /*  requires: backbone non-null with `feature` among its outputs; num_classes > 0; valid head options. */
  YoloV1(std::shared_ptr<Backbone> backbone, YoloV1Options opts);

  /*  ensures: N x S x S x (5B + C) raw predictions. */
  torch::Tensor forward(const torch::Tensor& images, NetTimes* times = nullptr);

  std::vector<NetDetections> detect(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                    NetTimes* times = nullptr) override;
  /// Keys: loss_coord, loss_obj, loss_noobj, loss_class (nn/heads/yolo_loss.h).
  std::map<std::string, torch::Tensor> losses(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes,
                                              const std::vector<NetTarget>& targets) override;
  int64_t num_classes() const override { return opts_.num_classes; }

  /// Decodes raw predictions of one image into all S*S*B boxes (x1 y1 x2 y2, pixels of an h x w image, clipped),
  /// their confidences and the cells' class values (S*S*B x C, repeated per box), all clamped to [0, 1].
  struct Decoded {
    torch::Tensor boxes, confidence, class_prob;
  };
  Decoded decode(const torch::Tensor& pred, int64_t height, int64_t width) const;

  const YoloV1Options& options() const { return opts_; }
  const std::string& feature() const { return feature_; }

 private:
  void check_sizes(const torch::Tensor& images, const std::vector<ImageSize>& image_sizes) const;

  YoloV1Options opts_;
  std::string feature_;
  std::shared_ptr<Backbone> backbone_;
  YoloV1Head head_{nullptr};
};

}  // namespace detlab
