// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Drawing labelled boxes (ground truth or detections) with a colour per class, for `detlab dataset show`,
// `detlab detect` and plots.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "core/types.h"
#include "data/dataset.h"

namespace detlab {

struct DrawOptions {
  int thickness = 2;        // box outline, px
  double font_scale = 0.5;  // cv::FONT_HERSHEY_SIMPLEX scale: ~12 px tall text, readable at 640 x 480
  bool show_labels = true;
};

/// Distinct BGR colour of a class (hue stepped by the golden ratio, so neighbouring labels differ);
/// grey for label < 0.
cv::Scalar class_colour(int label);

/// A copy of `image` (grey or BGR, converted to BGR) with each box drawn in its class colour and labelled
/// "<class> <score>" on a filled background of that colour (black or white text, whichever reads better).
/// requires: labels.size() == boxes.size(); scores empty or scores.size() == boxes.size(). Labels outside
/// [0, class_names.size()) are drawn as "#<label>".
cv::Mat draw_boxes(const cv::Mat& image, const std::vector<Box>& boxes, const std::vector<int>& labels,
                   const std::vector<std::string>& class_names, const std::vector<float>& scores = {},
                   const DrawOptions& opts = {});

/// Ground truth: difficult objects are labelled "<class>*" and crowd regions "<class> (crowd)".
cv::Mat draw_objects(const cv::Mat& image, const std::vector<Object>& objects,
                     const std::vector<std::string>& class_names, const DrawOptions& opts = {});

/// Detections with score >= min_score, labelled with their scores (two decimals).
cv::Mat draw_detections(const cv::Mat& image, const Detections& detections,
                        const std::vector<std::string>& class_names, float min_score = 0.f,
                        const DrawOptions& opts = {});

}  // namespace detlab
