// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Colour maps, overlays, colour bars, grids, titles, PNG / CSV writers.
#include "viz/render.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace detlab {

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.45;  // ~13 px tall: readable at 100 % on a 640 px wide picture
constexpr int kPad = 10;
constexpr int kBarWidth = 16;

int cv_colormap(Colormap c) {
  switch (c) {
    case Colormap::kViridis: return cv::COLORMAP_VIRIDIS;
    case Colormap::kInferno: return cv::COLORMAP_INFERNO;
    case Colormap::kMagma: return cv::COLORMAP_MAGMA;
  }
  return cv::COLORMAP_INFERNO;
}

/// Heckbert's "nice numbers" (Graphics Gems, 1990): 1, 2 or 5 times a power of ten.
double nice_step(double span, int ticks) {
  const double raw = span / std::max(1, ticks);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

void fix_range(double& lo, double& hi) {
  if (!(hi > lo)) {
    const double d = std::max(1e-6, std::abs(lo) * 1e-3);
    hi = lo + d;
  }
}

}  // namespace

Colormap parse_colormap(const std::string& name, const std::string& what) {
  if (name == "viridis") return Colormap::kViridis;
  if (name == "inferno") return Colormap::kInferno;
  if (name == "magma") return Colormap::kMagma;
  throw InputError("", what, "unknown colour map '" + name + "' (viridis, inferno, magma)");
}

std::string format_number(double v) {
  if (v == 0) return "0";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", v);
  return buf;
}

void draw_text(cv::Mat& picture, const std::string& text, int x, int y, double scale, const cv::Scalar& colour,
               int thickness) {
  cv::putText(picture, text, cv::Point(x, y), kFont, kFontScale * scale, colour, thickness, cv::LINE_AA);
}

cv::Size text_size(const std::string& text, double scale, int thickness) {
  int baseline = 0;
  return cv::getTextSize(text, kFont, kFontScale * scale, thickness, &baseline);
}

cv::Mat apply_colormap(const cv::Mat& values, double lo, double hi, Colormap colormap) {
  DETLAB_REQUIRE(values.type() == CV_32FC1, values.type());
  DETLAB_REQUIRE(hi > lo, lo, hi);
  cv::Mat u8, out;
  values.convertTo(u8, CV_8U, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));  // saturating: clips to [lo, hi]
  cv::applyColorMap(u8, out, cv_colormap(colormap));
  return out;
}

cv::Mat render_colorbar(int height, double lo, double hi, Colormap colormap, const std::string& label) {
  fix_range(lo, hi);
  const int top = 22;  // room for the label
  const int bar_h = std::max(16, height - top - 6);
  cv::Mat ramp(bar_h, 1, CV_32F);
  for (int r = 0; r < bar_h; ++r) ramp.at<float>(r) = static_cast<float>(hi - (hi - lo) * r / std::max(1, bar_h - 1));
  cv::Mat bar;
  cv::resize(apply_colormap(ramp, lo, hi, colormap), bar, cv::Size(kBarWidth, bar_h), 0, 0, cv::INTER_NEAREST);

  const double step = nice_step(hi - lo, 4);
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + 1e-9 * std::abs(hi) + 1e-12; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  int label_w = 0;
  for (double t : ticks) label_w = std::max(label_w, text_size(format_number(t), 0.9).width);
  const int width = std::max(kBarWidth + 6 + label_w + 4, text_size(label, 0.9).width + 4);
  cv::Mat out(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  bar.copyTo(out(cv::Rect(0, top, kBarWidth, bar_h)));
  cv::rectangle(out, cv::Rect(0, top, kBarWidth, bar_h), cv::Scalar(0, 0, 0), 1);
  for (double t : ticks) {
    const int y = top + static_cast<int>(std::lround((hi - t) / (hi - lo) * (bar_h - 1)));
    cv::line(out, cv::Point(kBarWidth - 4, y), cv::Point(kBarWidth + 3, y), cv::Scalar(0, 0, 0), 1);
    draw_text(out, format_number(t), kBarWidth + 6, y + 4, 0.9);
  }
  draw_text(out, label, 0, 15, 0.9);
  return out;
}

cv::Mat render_heatmap(const cv::Mat& bgr, const cv::Mat& values, const HeatmapStyle& style) {
  DETLAB_REQUIRE(bgr.type() == CV_8UC3 && values.type() == CV_32FC1 && bgr.size() == values.size(), bgr.type(),
                 values.type(), bgr.cols, bgr.rows, values.cols, values.rows);
  double lo = style.lo, hi = style.hi;
  if (!(hi > lo)) cv::minMaxLoc(values, &lo, &hi);
  fix_range(lo, hi);
  cv::Mat overlay;
  cv::addWeighted(bgr, 1.0 - style.alpha, apply_colormap(values, lo, hi, style.colormap), style.alpha, 0.0, overlay);
  const cv::Mat bar = render_colorbar(bgr.rows, lo, hi, style.colormap, style.value_label);
  const int w = kPad + (style.show_input ? bgr.cols + kPad : 0) + bgr.cols + kPad + bar.cols + kPad;
  cv::Mat body(bgr.rows + 2 * kPad, w, CV_8UC3, cv::Scalar(255, 255, 255));
  int x = kPad;
  if (style.show_input) {
    bgr.copyTo(body(cv::Rect(x, kPad, bgr.cols, bgr.rows)));
    x += bgr.cols + kPad;
  }
  overlay.copyTo(body(cv::Rect(x, kPad, bgr.cols, bgr.rows)));
  x += bgr.cols + kPad;
  bar.copyTo(body(cv::Rect(x, kPad, bar.cols, bar.rows)));
  return style.title.empty() ? body : add_title(body, style.title);
}

cv::Mat tile_grid(const std::vector<cv::Mat>& tiles, const std::vector<std::string>& captions, int cols, int tile) {
  DETLAB_REQUIRE(!tiles.empty() && cols >= 1 && tile >= 4, tiles.size(), cols, tile);
  DETLAB_REQUIRE(captions.empty() || captions.size() == tiles.size(), captions.size(), tiles.size());
  const bool any_caption = std::any_of(captions.begin(), captions.end(), [](const std::string& c) { return !c.empty(); });
  const int cap_h = any_caption ? 16 : 0, gap = 4;
  const int n = static_cast<int>(tiles.size());
  cols = std::min(cols, n);
  const int rows = (n + cols - 1) / cols;
  cv::Mat out(gap + rows * (tile + cap_h + gap), gap + cols * (tile + gap), CV_8UC3, cv::Scalar(255, 255, 255));
  for (int i = 0; i < n; ++i) {
    cv::Mat t = tiles[static_cast<size_t>(i)];
    if (t.channels() == 1) cv::cvtColor(t, t, cv::COLOR_GRAY2BGR);
    const double f = std::min(static_cast<double>(tile) / t.cols, static_cast<double>(tile) / t.rows);
    const int tw = std::max(1, static_cast<int>(std::lround(t.cols * f)));
    const int th = std::max(1, static_cast<int>(std::lround(t.rows * f)));
    cv::Mat fitted;
    // Small sources (3x3 kernels) are enlarged as blocks so that their pixels stay visible.
    cv::resize(t, fitted, cv::Size(tw, th), 0, 0, f >= 4 ? cv::INTER_NEAREST : f >= 1 ? cv::INTER_LINEAR : cv::INTER_AREA);
    const int r = i / cols, c = i % cols;
    const int x0 = gap + c * (tile + gap), y0 = gap + r * (tile + cap_h + gap);
    fitted.copyTo(out(cv::Rect(x0 + (tile - tw) / 2, y0 + (tile - th) / 2, tw, th)));
    if (any_caption) {
      std::string cap = captions[static_cast<size_t>(i)];
      while (cap.size() > 1 && text_size(cap, 0.8).width > tile) cap.pop_back();
      draw_text(out, cap, x0 + std::max(0, (tile - text_size(cap, 0.8).width) / 2), y0 + tile + 12, 0.8);
    }
  }
  return out;
}

cv::Mat add_title(const cv::Mat& picture, const std::string& title, const std::string& subtitle) {
  const int band = subtitle.empty() ? 30 : 48;
  const int w = std::max({picture.cols, text_size(title, 1.2).width + 2 * kPad, text_size(subtitle).width + 2 * kPad});
  cv::Mat out(picture.rows + band, w, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::Mat pic = picture;
  if (pic.channels() == 1) cv::cvtColor(pic, pic, cv::COLOR_GRAY2BGR);
  pic.copyTo(out(cv::Rect(0, band, pic.cols, pic.rows)));
  draw_text(out, title, kPad, 21, 1.2, cv::Scalar(0, 0, 0), 1);
  if (!subtitle.empty()) draw_text(out, subtitle, kPad, 40, 0.95, cv::Scalar(70, 70, 70));
  return out;
}

void write_png(const std::filesystem::path& file, const cv::Mat& picture) {
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  std::vector<uchar> buf;
  if (!cv::imencode(".png", picture, buf)) throw std::runtime_error("cannot encode " + file.string());
  write_file_atomic(file, std::string(buf.begin(), buf.end()));
}

void write_csv(const std::filesystem::path& file, const cv::Mat& values) {
  DETLAB_REQUIRE(values.type() == CV_32FC1, values.type());
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  write_file_atomic(file, [&](std::ostream& os) {
    char buf[32];
    for (int r = 0; r < values.rows; ++r) {
      for (int c = 0; c < values.cols; ++c) {
        std::snprintf(buf, sizeof(buf), "%.6g", static_cast<double>(values.at<float>(r, c)));
        os << (c ? "," : "") << buf;
      }
      os << "\n";
    }
  });
}

}  // namespace detlab
