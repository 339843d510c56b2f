// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Registries: one registry per stage kind; builtin_registries() fills them by explicit register_*() calls.
#pragma once

#include <cstdint>

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
/// Torch backbones (features/backbone.cpp, one name per nn backbone); only in builds with LibTorch.
void register_backbone_stages(Registry<BackboneStage>& r);

/// Every built-in component, registered on first use (see detectors/builtins.cpp). Thread-safe.
const Registries& builtin_registries();

/// Seeds what building a component draws from: LibTorch's process-wide generator, which LibTorch seeds
/// nondeterministically at start-up and which gives networks their initial weights. Call it before a build
/// whose result must be reproducible across processes (a training run). No-op in builds without LibTorch.
void seed_component_init(uint64_t seed);

}  // namespace detlab
