// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// render_scatter: axes, ticks, markers and legend.
#include "viz/scatter_plot.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "viz/render.h"

namespace detlab {

namespace {

double nice(double span) {
  const double raw = span / 5;  // about five ticks per axis
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

}  // namespace

cv::Scalar class_plot_colour(int label, const std::string& name) {
  static const cv::Scalar tab10[] = {{180, 119, 31}, {14, 127, 255}, {44, 160, 44},   {40, 39, 214},  {189, 103, 148},
                                     {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};
  if (name == "background") return cv::Scalar(150, 150, 150);
  return tab10[static_cast<size_t>(std::max(0, label)) % 10];
}

cv::Mat render_scatter(const torch::Tensor& points, const std::vector<int>& labels,
                       const std::vector<std::string>& class_names, const ScatterStyle& style) {
  DETLAB_REQUIRE(points.dim() == 2 && points.size(1) == 2 && points.size(0) == static_cast<int64_t>(labels.size()),
                 points.sizes(), labels.size());
  const torch::Tensor p = points.to(torch::kCPU, torch::kDouble).contiguous();
  const int64_t n = p.size(0);
  const double* v = p.data_ptr<double>();
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (n > 0) {
    x0 = x1 = v[0];
    y0 = y1 = v[1];
    for (int64_t i = 0; i < n; ++i) {
      x0 = std::min(x0, v[2 * i]);
      x1 = std::max(x1, v[2 * i]);
      y0 = std::min(y0, v[2 * i + 1]);
      y1 = std::max(y1, v[2 * i + 1]);
    }
  }
  const double mx = 0.05 * std::max(x1 - x0, 1e-9), my = 0.05 * std::max(y1 - y0, 1e-9);  // 5 % margins
  x0 -= mx, x1 += mx, y0 -= my, y1 += my;

  int legend_w = 0;
  std::vector<int> counts(class_names.size(), 0);
  for (int l : labels) {
    DETLAB_REQUIRE(l >= 0 && static_cast<size_t>(l) < class_names.size(), l, class_names.size());
    ++counts[static_cast<size_t>(l)];
  }
  for (size_t k = 0; k < class_names.size(); ++k)
    legend_w = std::max(legend_w, text_size(class_names[k] + " (" + std::to_string(counts[k]) + ")").width);
  const int left = 70, right = legend_w + 50, top = style.subtitle.empty() ? 40 : 58, bottom = 55;
  cv::Mat out(style.height, style.width, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Rect area(left, top, style.width - left - right, style.height - top - bottom);
  auto px = [&](double x) { return area.x + (x - x0) / (x1 - x0) * area.width; };
  auto py = [&](double y) { return area.y + area.height - (y - y0) / (y1 - y0) * area.height; };

  // Ticks and grid.
  const double sx = nice(x1 - x0), sy = nice(y1 - y0);
  for (double t = std::ceil(x0 / sx) * sx; t <= x1; t += sx) {
    const int x = static_cast<int>(std::lround(px(t)));
    cv::line(out, {x, area.y}, {x, area.y + area.height}, cv::Scalar(235, 235, 235), 1);
    cv::line(out, {x, area.y + area.height}, {x, area.y + area.height + 5}, cv::Scalar(0, 0, 0), 1);
    const std::string s = format_number(std::abs(t) < sx * 1e-9 ? 0 : t);
    draw_text(out, s, x - text_size(s).width / 2, area.y + area.height + 20);
  }
  for (double t = std::ceil(y0 / sy) * sy; t <= y1; t += sy) {
    const int y = static_cast<int>(std::lround(py(t)));
    cv::line(out, {area.x, y}, {area.x + area.width, y}, cv::Scalar(235, 235, 235), 1);
    cv::line(out, {area.x - 5, y}, {area.x, y}, cv::Scalar(0, 0, 0), 1);
    const std::string s = format_number(std::abs(t) < sy * 1e-9 ? 0 : t);
    draw_text(out, s, area.x - 8 - text_size(s).width, y + 5);
  }

  // Markers, blended so that dense regions show their overlap.
  cv::Mat layer = out.clone();
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(7));  // fixed order: reproducible pictures
  for (int64_t i : order) {
    const int l = labels[static_cast<size_t>(i)];
    const cv::Point c(static_cast<int>(std::lround(px(v[2 * i]))), static_cast<int>(std::lround(py(v[2 * i + 1]))));
    cv::circle(layer, c, style.radius, class_plot_colour(l, class_names[static_cast<size_t>(l)]), cv::FILLED, cv::LINE_AA);
  }
  cv::addWeighted(layer, 0.8, out, 0.2, 0.0, out);
  cv::rectangle(out, area, cv::Scalar(0, 0, 0), 1);

  // Axis labels (the y label rotated), title, legend.
  draw_text(out, style.x_label, area.x + area.width / 2 - text_size(style.x_label).width / 2, style.height - 12);
  const cv::Size ys = text_size(style.y_label);
  cv::Mat ylab(ys.height + 8, ys.width + 4, CV_8UC3, cv::Scalar(255, 255, 255));
  draw_text(ylab, style.y_label, 2, ys.height + 3);
  cv::rotate(ylab, ylab, cv::ROTATE_90_COUNTERCLOCKWISE);
  const int ly = std::max(0, area.y + area.height / 2 - ylab.rows / 2);
  if (ly + ylab.rows <= out.rows) ylab.copyTo(out(cv::Rect(6, ly, ylab.cols, ylab.rows)));
  draw_text(out, style.title, left, 24, 1.2);
  if (!style.subtitle.empty()) draw_text(out, style.subtitle, left, 44, 0.95, cv::Scalar(70, 70, 70));
  int yk = area.y + 10;
  for (size_t k = 0; k < class_names.size(); ++k) {
    const int xk = area.x + area.width + 16;
    cv::circle(out, {xk, yk}, 5, class_plot_colour(static_cast<int>(k), class_names[k]), cv::FILLED, cv::LINE_AA);
    draw_text(out, class_names[k] + " (" + std::to_string(counts[k]) + ")", xk + 12, yk + 5);
    yk += 22;
  }
  return out;
}

}  // namespace detlab
