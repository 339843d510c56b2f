// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// A labelled 2-D scatter plot (t-SNE embeddings), drawn with OpenCV: axes with ticks, axis labels, legend.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>
#include <torch/types.h>

namespace detlab {

struct ScatterStyle {
  std::string title;
  std::string subtitle;
  std::string x_label = "t-SNE 1";
  std::string y_label = "t-SNE 2";
  int width = 760;   // picture size in pixels
  int height = 600;
  int radius = 3;    // marker radius
};

/// matplotlib's "tab10" colours (BGR) by class index; a class named "background" is grey.
cv::Scalar class_plot_colour(int label, const std::string& name);

/*  requires: points N x 2; labels.size() == N, each in [0, class_names.size()).
    Points are drawn in a fixed shuffled order (no class systematically on top), slightly transparent; the
    legend lists every class with its count.  */
cv::Mat render_scatter(const torch::Tensor& points, const std::vector<int>& labels,
                       const std::vector<std::string>& class_names, const ScatterStyle& style);

}  // namespace detlab
