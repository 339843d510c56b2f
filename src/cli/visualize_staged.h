// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The explainer of a staged detector for detlab visualize (its stages scored again for one detection).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipeline/detector.h"
#include "viz/detection_target.h"

namespace detlab::cli {

/// The explainer of a staged detector (R-CNN, Fast R-CNN, the staged Faster R-CNN, HOG+SVM): its score is the
/// classifier stage's probability of the detection's class for the fixed proposal it was refined from. With a
/// torch backbone stage, a torch pooler over its maps and a network head (Fast R-CNN, the staged Faster R-CNN),
/// the stages' own modules compute it differentiably (layers: the backbone's maps; every method works);
/// otherwise (HOG+SVM, R-CNN's SVMs over crops) the stages compute it on the host from the image's own pixels:
/// occlusion perturbs them, and Grad-CAM is the linear classifier's per-cell terms over the region's features
/// (DetectionExplainer::region_grad_cam). nullptr when the detector is not staged.
std::unique_ptr<DetectionExplainer> make_staged_explainer(Detector& detector,
                                                          const std::vector<std::string>& class_names,
                                                          torch::Device device);

/// The explainer of dlib's FHOG detector (dlib_fhog): a detection's score is the sigmoid of its class filter's
/// linear score on the window, recomputed on the host from the image's pixels (occlusion); Grad-CAM shows the
/// filter's per-cell terms. nullptr when the detector is not dlib_fhog.
std::unique_ptr<DetectionExplainer> make_fhog_explainer(Detector& detector, const std::vector<std::string>& class_names,
                                                        torch::Device device);

}  // namespace detlab::cli
