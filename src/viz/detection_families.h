// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Internal: one DetectionExplainer factory per supported family (detection_target_<family>.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "viz/detection_target.h"

namespace detlab::detail {

/// Each returns nullptr when `model` is not of its family.
std::unique_ptr<DetectionExplainer> make_retinanet_explainer(const std::shared_ptr<DetectionModel>& model,
                                                             const TransformOptions& transform,
                                                             const std::vector<std::string>& class_names,
                                                             torch::Device device);
std::unique_ptr<DetectionExplainer> make_ssd_explainer(const std::shared_ptr<DetectionModel>& model,
                                                       const TransformOptions& transform,
                                                       const std::vector<std::string>& class_names,
                                                       torch::Device device);
std::unique_ptr<DetectionExplainer> make_faster_rcnn_explainer(const std::shared_ptr<DetectionModel>& model,
                                                               const TransformOptions& transform,
                                                               const std::vector<std::string>& class_names,
                                                               torch::Device device);
std::unique_ptr<DetectionExplainer> make_detr_explainer(const std::shared_ptr<DetectionModel>& model,
                                                        const TransformOptions& transform,
                                                        const std::vector<std::string>& class_names,
                                                        torch::Device device);
std::unique_ptr<DetectionExplainer> make_yolo_explainer(const std::shared_ptr<DetectionModel>& model,
                                                        const TransformOptions& transform,
                                                        const std::vector<std::string>& class_names,
                                                        torch::Device device);

}  // namespace detlab::detail
