// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Torch-side views of staged components: the modules a joint trainer assembles into one network (torch header).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/error.h"
#include "nn/backbones/backbone.h"
#include "nn/heads/roi_heads.h"
#include "nn/heads/rpn.h"
#include "nn/weights/weight_file.h"
#include "tensor/transform.h"

namespace detlab {

// Torch-backed stages implement, besides their torch-free stage interface (pipeline/stages.h), one of these
// views. The staged detector's fit() (detectors/rcnn_training.h) finds them with dynamic_cast and assembles the
// stages' own module instances into one FasterRCNN (nn/detection/faster_rcnn.h) that the training engine
// trains end to end; the stages then detect with the trained modules. Modules are shared, never copied.

/// A backbone stage (features/backbone.h).
class TorchBackboneStage {
 public:
  virtual ~TorchBackboneStage() = default;
  virtual std::shared_ptr<Backbone> backbone() const = 0;
  /// The input transform of the network (training batches use it too).
  virtual const TransformOptions& transform() const = 0;
};

/// A proposal stage backed by a RegionProposalNetwork (proposals/rpn.h).
class TorchProposalStage {
 public:
  virtual ~TorchProposalStage() = default;
  virtual RegionProposalNetwork rpn() const = 0;
  /// Backbone maps the RPN reads, one per anchor level.
  virtual const std::vector<std::string>& in_features() const = 0;
  /// false when the RPN (and its own backbone) came trained from another model folder: it is then frozen and
  /// used like any fixed proposal stage.
  virtual bool trainable() const = 0;
};

/// A feature stage backed by an RoiPooler (features/roi_pool.h, roi_align.h, cnn_crop.h).
class TorchFeatureStage {
 public:
  virtual ~TorchFeatureStage() = default;
  virtual std::shared_ptr<RoiPooler> pooler() const = 0;
  /// The network input the pooler reads when the pipeline has no backbone stage (cnn_crop reads the image);
  /// nullopt for poolers that need a backbone's maps.
  virtual std::optional<TransformOptions> own_transform() const { return std::nullopt; }
  /// RoI sampling for fine-tuning a pooler with parameters under a temporary softmax layer when the classifier
  /// is not a torch head (R-CNN: fine-tune the CNN, then train SVMs); nullopt: nothing to fine-tune.
  virtual std::optional<RoiHeadsOptions> fine_tuning() const { return std::nullopt; }
};

/// A classifier stage backed by a box head and predictor (classifiers/fast_rcnn_head.h).
class TorchClassifierStage {
 public:
  virtual ~TorchClassifierStage() = default;
  virtual TwoMlpHead box_head() const = 0;  // may be empty (the predictor reads the pooled features)
  virtual FastRcnnPredictor box_predictor() const = 0;
  /// RoI sampling and loss settings of training.
  virtual const RoiHeadsOptions& roi_heads_options() const = 0;
  /// Called by the joint trainer once the head has been trained with the pipeline.
  virtual void mark_trained() = 0;
};

/// Runs make() and turns what torch code throws on bad options (c10::Error from a module's checks, weight-file
/// errors) into an InputError naming the config node, for registry builders of torch stages.
template <class F>
auto with_config_errors(const Config& node, F&& make) -> decltype(make()) {
  try {
    return make();
  } catch (const WeightFileError& e) {
    throw InputError(node.file(), node.path(), e.what());
  } catch (const WeightLoadError& e) {
    throw InputError(node.file(), node.path(), e.source() + ": " + e.report().summary());
  } catch (const c10::Error& e) {
    throw InputError(node.file(), node.path(), e.what_without_backtrace());
  }
}

}  // namespace detlab
