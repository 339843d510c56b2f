// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// register_detectors(): the meta-architectures and whole-detector families (names = file stems).
#include "detectors/dlib_fhog.h"
#include "detectors/staged.h"
#include "pipeline/registries.h"

namespace detlab {

#if DETLAB_WITH_TORCH
void register_deep_detectors(Registry<Detector>& r);  // register_deep.cpp
#endif

void register_detectors(Registry<Detector>& r) {
  r.add("staged", build_staged,
        "optional backbone -> proposals -> region features -> classifier -> NMS (HOG+SVM, R-CNN, Fast R-CNN)");
  r.add(
      "dlib_fhog",
      [](const Config& c, BuildContext& b) { return make_dlib_fhog(parse_dlib_fhog(c, b.class_names), c.hash()); },
      "dlib's scan_fhog_pyramid + structural SVM, one detector per class (reference)");
#if DETLAB_WITH_TORCH
  register_deep_detectors(r);
#endif
}

}  // namespace detlab
