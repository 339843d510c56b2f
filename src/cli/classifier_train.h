// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// `detlab train` on a classification config (a top-level `classifier` section): the crop classifier of viz/.
#pragma once

#include <memory>
#include <string>

#include "cli/options.h"
#include "experiment/run_config.h"

namespace detlab {
class CropClassifier;
}  // namespace detlab

namespace detlab::cli {

/// Trains rc's classifier on the train split, saves the model folder (detector.json header of type
/// crop_classifier, model.pt, config.yaml, train.json) and, with evaluate, scores the test split's crops:
/// per-class accuracy table on stdout and classification.json in the folder. Returns the exit code.
int train_classifier(const RunConfig& rc, const CommonOptions& common, const std::string& out, bool evaluate);

/// Builds rc's classifier (InputError naming the config file and key for bad options).
std::unique_ptr<CropClassifier> build_classifier(const RunConfig& rc);

}  // namespace detlab::cli
