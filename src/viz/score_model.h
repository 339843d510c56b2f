// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// ScoreModel: what every visualization method sees of a network (a classifier, or one detection of a detector).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "nn/backbones/backbone.h"
#include "tensor/batch.h"
#include "tensor/transform.h"

namespace detlab {

/// Named intermediate maps of one forward pass ("taps"), each N x C x h x w, in the autograd graph when grad
/// mode is on (so that a score can be differentiated with respect to them: Grad-CAM).
using TapMap = std::map<std::string, torch::Tensor>;

/// Where the cells of a layer's map sit on the network input: cell (i, j) is centred on the continuous input
/// point (offset + stride * j, offset + stride * i) and sees a size x size window there (its receptive field,
/// measured: viz/receptive_field.h). Torchvision-style networks centre cell j at stride * j + 0.5, not at
/// stride * (j + 0.5): mapping a stride-32 map naively would misplace it by 15.5 input pixels.
struct LayerGeometry {
  int64_t stride = 1;
  int64_t channels = 0;
  double offset = 0.5;  // continuous input coordinate of cell 0's centre
  int64_t size = 1;     // receptive field side, input pixels (clipped at the probe's size for huge fields)
};

/// The last linear layer of a "GAP + linear" network (CAM's requirement): scores = weight * mean_hw(layer) + bias.
struct GapLinear {
  std::string layer;
  torch::Tensor weight;  // num_scores x C
  torch::Tensor bias;    // num_scores
};

/// What this represents: a differentiable function from a normalized image batch to a row of target scores,
/// with named intermediate maps. A classifier gives one score per class (its logits); a detector, once one of
/// its detections is chosen (viz/detection_target.h), gives that detection's score. Every method of viz/ is
/// written against this interface, so each works on any backbone trained here.
/// thread safety: one call at a time (the caches below are guarded, the module is not).
class ScoreModel {
 public:
  virtual ~ScoreModel() = default;

  /// Names of the maps forward() captures, input side first (the backbone's taps).
  virtual std::vector<std::string> layers() const = 0;
  /// Names of the score columns (class names; a detection's "class @ x1,y1,x2,y2").
  virtual std::vector<std::string> score_names() const = 0;
  /*  requires: input N x 3 x H x W, normalized as transform() says, on device(); N >= 1.
      ensures: N x score_names().size() scores; if maps, (*maps)[layer] for every layer in layers(). */
  virtual torch::Tensor forward(const torch::Tensor& input, TapMap* maps) = 0;
  /// The maps alone (no scores): any input size, e.g. the receptive-field probe's.
  virtual TapMap features(const torch::Tensor& input) = 0;
  /// How images become input (resize, normalization, padding).
  virtual const TransformOptions& transform() const = 0;
  virtual torch::nn::Module& module() = 0;
  virtual torch::Device device() const = 0;
  /// Set when the scores are GAP + linear of a layer (enables CAM); nullptr otherwise.
  virtual const GapLinear* gap_linear() const { return nullptr; }

  /// The layer Grad-CAM uses by default: the last one (the most semantic map, as Selvaraju et al. advise); a
  /// chosen detection of a multi-level detector uses the level its anchor or proposal came from.
  virtual std::string default_layer() const;
  /// A score column by name or by number ("WBC", "1"); InputError (field `what`) listing the names otherwise.
  int64_t score_index(const std::string& name_or_index, const std::string& what = "--target") const;
  /// Checks a layer name; InputError (field `what`) listing layers() otherwise.
  void require_layer(const std::string& layer, const std::string& what = "--layer") const;
  /// Stride, channels, cell offset and receptive field of a layer (measured once, then cached).
  LayerGeometry geometry(const std::string& layer);

 private:
  std::mutex cache_mutex_;
  std::map<std::string, LayerGeometry> geometry_cache_;
};

/// One image prepared for a ScoreModel.
struct ModelInput {
  cv::Mat bgr;           // the original image (CV_8UC3)
  std::string name;      // its data-set name (ImageRecord::name; a file's stem): what stages keyed by image read
                         // (a precomputed proposal file); "" when unknown
  torch::Tensor tensor;  // 1 x 3 x H x W, normalized, zero-padded, on the model's device
  ImageMeta meta;        // resize bookkeeping: the image occupies [0, meta.width) x [0, meta.height) of the tensor
};

/// Preprocesses one image exactly as the model's own inference path does (tensor/transform.h make_eval_batch).
/// requires: bgr CV_8UC3, non-empty.
ModelInput make_input(const cv::Mat& bgr, ScoreModel& model, const std::string& name = "");

/// Row 0 of forward(input) without a graph; resolves target < 0 to the best-scoring column.
struct TargetScore {
  int64_t target = 0;
  double score = 0;
};
TargetScore resolve_target(ScoreModel& model, const torch::Tensor& input, int64_t target);

}  // namespace detlab
