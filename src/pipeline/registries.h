// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Registries: one registry per stage kind; builtin_registries() fills them by explicit register_*() calls.
#pragma once

#include "config/registry.h"
#include "pipeline/build_context.h"
#include "pipeline/detector.h"
#include "pipeline/stages.h"

namespace detlab {

struct Registries {
  Registry<Detector> detectors{"detector"};
  Registry<BackboneStage> backbones{"backbone"};
  Registry<ProposalStage> proposals{"proposal stage"};
  Registry<FeatureStage> features{"feature stage"};
  Registry<ClassifierStage> classifiers{"classifier stage"};
};

/// One per folder's register.cpp (proposals/, features/, classifiers/, detectors/); builtin_registries()
/// calls each once. Layers with optional dependencies (torch adapters) add their own register_*() there.
void register_proposal_stages(Registry<ProposalStage>& r);
void register_feature_stages(Registry<FeatureStage>& r);
void register_classifier_stages(Registry<ClassifierStage>& r);
void register_detectors(Registry<Detector>& r);

/// Every built-in component, registered on first use (see detectors/builtins.cpp). Thread-safe.
const Registries& builtin_registries();

}  // namespace detlab
