// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// builtin_registries(): the one place that calls every folder's register_*() function.
#include "pipeline/registries.h"

#if DETLAB_WITH_TORCH
#include "tensor/runtime.h"
#endif

namespace detlab {

const Registries& builtin_registries() {
  // A function-local static is initialised once, thread-safely, on first use; nothing registers itself.
  static const Registries registries = [] {
    Registries r;
    register_proposal_stages(r.proposals);
    register_feature_stages(r.features);
    register_classifier_stages(r.classifiers);
    register_detectors(r.detectors);
#if DETLAB_WITH_TORCH
    register_backbone_stages(r.backbones);
#endif
    return r;
  }();
  return registries;
}

void seed_component_init(uint64_t seed) {
#if DETLAB_WITH_TORCH
  seed_everything(seed);
#else
  (void)seed;
#endif
}

}  // namespace detlab
