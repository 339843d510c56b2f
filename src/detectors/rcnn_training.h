// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Joint training of a staged detector's torch stages (R-CNN family): one network from the stages' modules.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "detectors/staged.h"
#include "pipeline/detector.h"

namespace detlab {

/// The `train` section of a staged detector (train/engine.h TrainOptions; opaque to torch-free code).
struct StagedTrainSettings;

/// Keys: those of parse_train_options (train/engine.h). InputError naming the dotted key on a bad value.
std::shared_ptr<const StagedTrainSettings> parse_staged_training(const Config& train_node);

/// Trains the torch stages of `parts` end to end with the training engine (train/engine.h: progress bar,
/// checkpoints in ctx.out_dir/checkpoints, train_log.csv, resume with ctx.resume). The stages' own module
/// instances are assembled into one FasterRCNN (nn/detection/faster_rcnn.h), so the stages detect with the
/// trained weights afterwards:
///  - Faster R-CNN (backbone + rpn + roi_align / roi_pool + fast_rcnn_head): backbone, RPN and head trained
///    together on the RPN's and the head's losses (approximate joint training, Ren et al. 2015, section 3.2).
///  - Fast R-CNN (backbone + a fixed proposal stage + roi_pool / roi_align + fast_rcnn_head): backbone and head
///    on the head's multi-task loss over RoIs sampled from the stage's proposals (computed once per training
///    image; the head's sampling options, e.g. 64 RoIs per image at 25 % foreground with 2 images per batch).
///  - R-CNN (a fixed proposal stage + cnn_crop + a non-torch classifier): the crop CNN fine-tuned under a
///    temporary (K+1)-way softmax layer on warped proposals (cnn_crop's fine_tune sampling); the classifier
///    (linear_svm with mining and box regression) then trains on the fine-tuned features as usual.
///  - cnn_crop + fast_rcnn_head: the crop CNN and the head trained together (R-CNN with a softmax head).
///  - rpn + classical features / classifier: the backbone and RPN trained on the RPN losses alone.
/// A frozen rpn stage (loaded from another model folder) is a fixed proposal stage here.
/// Returns true when the classifier stage was trained (a fast_rcnn_head); the caller then skips its fit().
/// Returns false without training when no torch stage learns anything (classical pipelines).
/// InputError naming config_path.train when torch stages would learn but settings is null.
bool fit_torch_stages(StagedParts& parts, const StagedTrainSettings* settings, const TrainContext& ctx,
                      const std::string& config_file, const std::string& config_path);

/// Learned parameters of the torch stages other than the classifier (backbone, RPN, cnn_crop's network), for
/// Detector::num_parameters().
int64_t torch_stage_parameters(const StagedParts& parts);

}  // namespace detlab
