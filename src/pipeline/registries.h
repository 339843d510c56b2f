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
  Registry<ProposalStage> proposals{"proposal stage"};
  Registry<FeatureStage> features{"feature stage"};
  Registry<ClassifierStage> classifiers{"classifier stage"};
};

/// Every built-in component, registered on first use (see detectors/builtins.cpp). Thread-safe.
const Registries& builtin_registries();

}  // namespace detlab
