// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// register_deep_detectors(): the deep families (NetworkDetector over an nn/ DetectionModel), when built with torch.
#include "pipeline/registries.h"

namespace detlab {

void register_deep_detectors(Registry<Detector>& r) {
  // Each family adds one line here: r.add("<file stem>", build_<family>, "<one-line summary>").
}

}  // namespace detlab
