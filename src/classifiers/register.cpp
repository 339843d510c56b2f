// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// register_classifier_stages(): the classical classifier stages (names = file stems).
#include "classifiers/linear_svm.h"
#include "pipeline/registries.h"

namespace detlab {

#if DETLAB_WITH_TORCH
void register_fast_rcnn_head_stage(Registry<ClassifierStage>& r);  // classifiers/fast_rcnn_head.cpp (torch stages)
#endif

void register_classifier_stages(Registry<ClassifierStage>& r) {
  r.add(
      "linear_svm",
      [](const Config& c, BuildContext& b) { return make_linear_svm(parse_linear_svm(c, b.num_classes())); },
      "one-vs-rest linear SVMs (dlib), hard-negative mining rounds, optional ridge box regression");
#if DETLAB_WITH_TORCH
  register_fast_rcnn_head_stage(r);
#endif
}

}  // namespace detlab
