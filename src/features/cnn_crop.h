// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// cnn_crop: R-CNN's region features: each box warped with context to a fixed size and run through a CNN.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "nn/backbones/make_backbone.h"
#include "nn/heads/roi_heads.h"
#include "pipeline/build_context.h"
#include "pipeline/stages.h"
#include "tensor/transform.h"

namespace detlab {

struct CnnCropOptions {
  std::string backbone = "small_resnet";  // make_backbone() name
  BackboneOptions backbone_options;       // weights (e.g. ImageNet), norm, trainable_layers
  std::string feature;                    // map averaged into the region vector; empty: the deepest one
  int64_t size = 227;                     // warped crop side: R-CNN's 227 x 227 (AlexNet's input)
  double context = 16;                    // warped pixels of image context around the box (R-CNN's p = 16)
  int64_t chunk = 256;                    // crops per forward pass at detection time (bounds memory)
  /// How the image is normalized before cropping: no resize (crops come from the full-resolution image),
  /// ImageNet statistics, no padding. Used when the pipeline has no backbone stage.
  TransformOptions input = [] {
    TransformOptions t;
    t.min_size = 0;
    t.size_divisibility = 1;
    return t;
  }();
  /// R-CNN's fine-tuning (section 2.3) when the classifier is not a torch head: a temporary (K+1)-way softmax
  /// layer over the region vector, RoIs with IoU >= 0.5 foreground and the rest background, 32 + 96 warped
  /// windows per mini-batch of 128 (2 images x 64 at 25 %).
  bool fine_tune = true;
  RoiHeadsOptions fine_tune_sampling = [] {
    RoiHeadsOptions r;
    r.batch_size_per_image = 64;
    r.positive_fraction = 0.25;
    return r;
  }();
};

/// Keys: backbone ({type, ...parse_backbone_options keys}), feature, size, context, chunk, input, fine_tune
/// (false, or {batch_size_per_image, positive_fraction, fg_iou, bg_iou, bg_iou_lo}).
CnnCropOptions parse_cnn_crop(const Config& node);

/// What this represents: R-CNN's feature extraction (Girshick et al. 2014, section 2.1 and appendix A): every
/// proposal is dilated so that the warped crop holds `context` pixels of surrounding image, warped
/// anisotropically to size x size (bilinear, as RoIAlign with one sample per output pixel on the normalized
/// image; outside the image the normalized value is 0, i.e. the mean colour, R-CNN's padding), run through the
/// CNN, and its `feature` map is averaged into a D-vector (host rows, for an SVM or a softmax head). The network
/// is an RoiPooler (nn/heads/box_roi_pool.h) so the staged detector can fine-tune it (TorchFeatureStage).
/// Sets ctx.region_shape = {D}. Saves cnn_crop.pt.
/// thread safety: extract() may run concurrently (eval mode, no gradients).
std::unique_ptr<FeatureStage> make_cnn_crop(const CnnCropOptions& opts, BuildContext& ctx);

}  // namespace detlab
