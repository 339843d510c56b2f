// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// register_feature_stages(): the classical feature stages (names = file stems).
#include "features/hog.h"
#include "pipeline/registries.h"

namespace detlab {

void register_feature_stages(Registry<FeatureStage>& r) {
  r.add(
      "hog", [](const Config& c, BuildContext&) { return make_hog(parse_hog(c)); },
      "HOG per region, one grid per pyramid level: OpenCV Dalal-Triggs or dlib FHOG back end");
}

}  // namespace detlab
