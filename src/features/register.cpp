// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// register_feature_stages(): the classical feature stages (names = file stems).
#include "features/hog.h"
#include "pipeline/registries.h"

namespace detlab {

#if DETLAB_WITH_TORCH
// Torch stages (detlab_torch_stages), each registered by its own file.
void register_roi_align_stage(Registry<FeatureStage>& r);  // features/roi_align.cpp
void register_roi_pool_stage(Registry<FeatureStage>& r);   // features/roi_pool.cpp
void register_cnn_crop_stage(Registry<FeatureStage>& r);   // features/cnn_crop.cpp
#endif

void register_feature_stages(Registry<FeatureStage>& r) {
  r.add(
      "hog", [](const Config& c, BuildContext&) { return make_hog(parse_hog(c)); },
      "HOG per region, one grid per pyramid level: OpenCV Dalal-Triggs or dlib FHOG back end");
#if DETLAB_WITH_TORCH
  register_roi_align_stage(r);
  register_roi_pool_stage(r);
  register_cnn_crop_stage(r);
#endif
}

}  // namespace detlab
