// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Labelled boxes drawn with OpenCV: class colours, label backgrounds, ground truth and detections.
#include "data/draw.h"

#include <cmath>
#include <cstdio>

#include <opencv2/imgproc.hpp>

#include "core/error.h"

namespace detlab {

namespace {

void draw_one(cv::Mat& img, const Box& b, int label, const std::string& text, const DrawOptions& opts) {
  const cv::Scalar colour = class_colour(label);
  const cv::Point p1(static_cast<int>(std::lround(b.x1)), static_cast<int>(std::lround(b.y1)));
  // continuous x2 is one past the last covered pixel
  const cv::Point p2(static_cast<int>(std::lround(b.x2)) - 1, static_cast<int>(std::lround(b.y2)) - 1);
  cv::rectangle(img, p1, p2, colour, opts.thickness, cv::LINE_8);
  if (!opts.show_labels || text.empty()) return;
  int baseline = 0;
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  const cv::Size ts = cv::getTextSize(text, font, opts.font_scale, 1, &baseline);
  const int pad = 2;
  const int h = ts.height + baseline + 2 * pad;
  // above the box when there is room, else just inside its top edge; kept inside the image horizontally
  int top = p1.y - h >= 0 ? p1.y - h : std::max(0, p1.y);
  int left = std::min(std::max(0, p1.x), std::max(0, img.cols - ts.width - 2 * pad));
  top = std::min(top, std::max(0, img.rows - h));
  cv::rectangle(img, cv::Rect(left, top, ts.width + 2 * pad, h), colour, cv::FILLED);
  const double lum = 0.114 * colour[0] + 0.587 * colour[1] + 0.299 * colour[2];
  const cv::Scalar ink = lum > 140 ? cv::Scalar(0, 0, 0) : cv::Scalar(255, 255, 255);
  cv::putText(img, text, cv::Point(left + pad, top + pad + ts.height), font, opts.font_scale, ink, 1, cv::LINE_AA);
}

std::string class_text(int label, const std::vector<std::string>& names) {
  if (label >= 0 && label < static_cast<int>(names.size())) return names[label];
  return "#" + std::to_string(label);
}

cv::Mat to_bgr(const cv::Mat& image) {
  DETLAB_REQUIRE(!image.empty() && image.depth() == CV_8U, image.depth());
  cv::Mat out;
  if (image.channels() == 1) cv::cvtColor(image, out, cv::COLOR_GRAY2BGR);
  else if (image.channels() == 4) cv::cvtColor(image, out, cv::COLOR_BGRA2BGR);
  else out = image.clone();
  return out;
}

}  // namespace

cv::Scalar class_colour(int label) {
  if (label < 0) return cv::Scalar(160, 160, 160);
  const double kGolden = 0.6180339887498949;  // successive hues as far apart as possible
  const double h = std::fmod(0.05 + label * kGolden, 1.0) * 6.0;
  const double s = 0.85, v = label % 2 ? 0.80 : 0.95;  // alternate brightness to separate similar hues
  const int sector = static_cast<int>(h) % 6;
  const double f = h - std::floor(h), p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r = 0, g = 0, b = 0;
  switch (sector) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
  }
  return cv::Scalar(std::round(255 * b), std::round(255 * g), std::round(255 * r));
}

cv::Mat draw_boxes(const cv::Mat& image, const std::vector<Box>& boxes, const std::vector<int>& labels,
                   const std::vector<std::string>& class_names, const std::vector<float>& scores,
                   const DrawOptions& opts) {
  DETLAB_REQUIRE(labels.size() == boxes.size(), labels.size(), boxes.size());
  DETLAB_REQUIRE(scores.empty() || scores.size() == boxes.size(), scores.size(), boxes.size());
  cv::Mat out = to_bgr(image);
  for (size_t i = 0; i < boxes.size(); ++i) {
    std::string text = class_text(labels[i], class_names);
    if (!scores.empty()) {
      char buf[16];
      std::snprintf(buf, sizeof buf, " %.2f", scores[i]);
      text += buf;
    }
    draw_one(out, boxes[i], labels[i], text, opts);
  }
  return out;
}

cv::Mat draw_objects(const cv::Mat& image, const std::vector<Object>& objects,
                     const std::vector<std::string>& class_names, const DrawOptions& opts) {
  cv::Mat out = to_bgr(image);
  for (const Object& o : objects) {
    std::string text = class_text(o.label, class_names);
    if (o.difficult) text += "*";
    if (o.crowd) text += " (crowd)";
    draw_one(out, o.box, o.label, text, opts);
  }
  return out;
}

cv::Mat draw_detections(const cv::Mat& image, const Detections& detections,
                        const std::vector<std::string>& class_names, float min_score, const DrawOptions& opts) {
  std::vector<Box> boxes;
  std::vector<int> labels;
  std::vector<float> scores;
  for (const Detection& d : detections) {
    if (d.score < min_score) continue;
    boxes.push_back(d.box);
    labels.push_back(d.label);
    scores.push_back(d.score);
  }
  return draw_boxes(image, boxes, labels, class_names, scores, opts);
}

}  // namespace detlab
