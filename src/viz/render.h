// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Rendering for viz/: colour maps, heat-map overlays with a colour bar and title, image grids, PNG / CSV output.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace detlab {

/// Perceptually uniform colour maps (van der Walt & Smith's matplotlib maps, as OpenCV 4.6 ships them).
enum class Colormap { kViridis, kInferno, kMagma };

/// "viridis" | "inferno" | "magma"; InputError (field `what`) otherwise.
Colormap parse_colormap(const std::string& name, const std::string& what = "--colormap");

struct HeatmapStyle {
  std::string title;          // drawn above the picture
  std::string value_label;    // drawn above the colour bar (what the colours measure)
  Colormap colormap = Colormap::kInferno;
  float alpha = 0.5f;         // weight of the colours over the image (0.5: both stay readable)
  double lo = 0, hi = 0;      // value range of the colour bar; lo == hi: the map's own min / max
  bool show_input = true;     // the plain image on the left of the overlay, for comparison
};

/// BGR colours of values (CV_32F) mapped from [lo, hi] (clipped) through a colour map.
/// requires: values CV_32FC1; hi > lo.
cv::Mat apply_colormap(const cv::Mat& values, double lo, double hi, Colormap colormap);

/// The heat map `values` (CV_32F, same size as `bgr`) blended over the image, with a colour bar (ticks and
/// numbers on the actual value scale) on the right and the title on top. A constant map gets a one-value bar.
/// requires: bgr CV_8UC3; values CV_32FC1 of bgr's size.
cv::Mat render_heatmap(const cv::Mat& bgr, const cv::Mat& values, const HeatmapStyle& style);

/// A vertical colour bar `height` px tall for [lo, hi] with ~5 ticks and its label on top.
cv::Mat render_colorbar(int height, double lo, double hi, Colormap colormap, const std::string& label);

/// Tiles (any size: each is fitted into tile x tile keeping its aspect) in rows of `cols`, with a caption
/// under each (empty captions take no space when all are empty), on a white background.
cv::Mat tile_grid(const std::vector<cv::Mat>& tiles, const std::vector<std::string>& captions, int cols, int tile);

/// A white band with `title` above the picture (and `subtitle` in a smaller font under it, if any).
cv::Mat add_title(const cv::Mat& picture, const std::string& title, const std::string& subtitle = "");

/// Text in the project's figure font at (x, baseline y); scale 1 is ~13 px tall.
void draw_text(cv::Mat& picture, const std::string& text, int x, int y, double scale = 1.0,
               const cv::Scalar& colour = cv::Scalar(0, 0, 0), int thickness = 1);
/// Width and height of draw_text's text.
cv::Size text_size(const std::string& text, double scale = 1.0, int thickness = 1);

/// Writes a PNG atomically (creating the folder).
void write_png(const std::filesystem::path& file, const cv::Mat& picture);
/// Writes a 2-D CV_32F map as CSV (one row per line, %.6g) atomically.
void write_csv(const std::filesystem::path& file, const cv::Mat& values);

/// A number for tick labels and captions: 3 significant digits, no trailing zeros.
std::string format_number(double v);

}  // namespace detlab
