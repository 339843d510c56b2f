// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// staged: the proposals -> region features -> classifier meta-architecture (HOG+SVM, R-CNN, Fast R-CNN).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "detectors/postprocess.h"
#include "pipeline/build_context.h"
#include "pipeline/detector.h"
#include "pipeline/stages.h"

namespace detlab {

/// The stages of a staged detector. backbone is optional; the others are required.
struct StagedParts {
  std::unique_ptr<BackboneStage> backbone;
  std::unique_ptr<ProposalStage> proposals;
  std::unique_ptr<FeatureStage> features;
  std::unique_ptr<ClassifierStage> classifier;
};

struct StagedTrainSettings;  // detectors/rcnn_training.h (torch builds only)

struct StagedOptions {
  PostprocessOptions post;
  std::vector<std::string> class_names;  // label order; saved with the model and checked on load
  std::string config_hash;               // Config::hash() of the detector node (saved; a mismatch warns)
  std::string config_file;               // for messages about the config ("<string>" when built in code)
  std::string config_path = "detector";  // dotted path of the detector node
  /// The `train` section: schedule of the torch stages' joint training (detectors/rcnn_training.h); null = none.
  std::shared_ptr<const StagedTrainSettings> train;
};

/// A detector made of stages, as in detectron2's GeneralizedRCNN: optional shared backbone -> proposals ->
/// region features -> classifier -> box decoding, per-class NMS, top-k (detectors/postprocess.h).
/// fit(): the proposal stage learns data-dependent settings (window shapes), the feature stage adopts its
/// window shapes; torch stages (rpn, roi_pool / roi_align, cnn_crop, fast_rcnn_head) then train end to end
/// with the training engine (detectors/rcnn_training.h, schedule in `train`); then, unless the classifier was
/// one of them, it trains on the training images seen through those stages (hard-negative mining for
/// linear_svm). Per-image work runs on TrainContext::threads workers.
/// detect() times: "backbone" (if any), "proposals", "features", "classifier", "post".
/// requires (make_staged): proposals, features, classifier set; classifier->num_classes() ==
/// class_names.size(); a sliding-window proposal stage has one window shape or one per class.
std::unique_ptr<Detector> make_staged(StagedParts parts, const StagedOptions& opts);

/// A staged detector's stages and options, for tools that run the stages one at a time (the visualization's
/// explainer, viz/detection_target.h); nullptr when `detector` is not a staged detector. The pointers live as
/// long as the detector.
struct StagedInternals {
  StagedParts* parts = nullptr;
  const StagedOptions* options = nullptr;
};
std::optional<StagedInternals> staged_internals(Detector& detector);

/// Registry builder for `type: staged`: keys backbone (optional), proposals, features, classifier (registry
/// nodes), postprocess (detectors/postprocess.h) and train (torch stages' schedule, train/engine.h keys).
std::unique_ptr<Detector> build_staged(const Config& node, BuildContext& ctx);

}  // namespace detlab
