// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Confusion matrix with a background row and column at a score / IoU operating point.
#include "eval/confusion.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "core/csv.h"
#include "core/error.h"

namespace detlab {

namespace {

double iou_d(const Box& a, const Box& b, bool crowd) {
  const double w = std::min<double>(a.x2, b.x2) - std::max<double>(a.x1, b.x1);
  const double h = std::min<double>(a.y2, b.y2) - std::max<double>(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const double inter = w * h;
  const double da = (static_cast<double>(a.x2) - a.x1) * (static_cast<double>(a.y2) - a.y1);
  const double gb = (static_cast<double>(b.x2) - b.x1) * (static_cast<double>(b.y2) - b.y1);
  const double uni = crowd ? da : da + gb - inter;
  return uni > 0 ? inter / uni : 0;
}

}  // namespace

ConfusionMatrix confusion_matrix(const Dataset& gt, const DetectionSet& dets, const ConfusionOptions& opts) {
  const std::vector<Detections> by_image = detections_by_image(gt, dets);
  const int K = gt.num_classes();
  ConfusionMatrix m;
  m.num_classes = K;
  m.counts.assign(static_cast<size_t>(K + 1) * (K + 1), 0);
  auto add = [&](int r, int c) { ++m.counts[static_cast<size_t>(r) * (K + 1) + c]; };
  for (size_t i = 0; i < gt.images.size(); ++i) {
    const auto& objects = gt.images[i].objects;
    std::vector<int> order;
    for (size_t d = 0; d < by_image[i].size(); ++d)
      if (by_image[i][d].score >= opts.score_threshold) order.push_back(static_cast<int>(d));
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return by_image[i][a].score > by_image[i][b].score; });
    std::vector<char> taken(objects.size(), 0);
    for (int d : order) {
      const Detection& det = by_image[i][d];
      int same = -1, other = -1;
      double same_iou = -1, other_iou = -1;
      bool on_ignored = false;
      for (size_t g = 0; g < objects.size(); ++g) {
        const Object& o = objects[g];
        const bool ignored = o.difficult || o.crowd;
        const double v = iou_d(det.box, o.box, o.crowd);
        if (v < opts.iou_threshold) continue;
        if (ignored) {
          on_ignored = true;
        } else if (!taken[g]) {
          if (o.label == det.label && v > same_iou) same = static_cast<int>(g), same_iou = v;
          if (o.label != det.label && v > other_iou) other = static_cast<int>(g), other_iou = v;
        }
      }
      const int g = same >= 0 ? same : other;
      if (g >= 0) {
        taken[g] = 1;
        add(objects[g].label, det.label);
      } else if (!on_ignored) {
        add(K, det.label);
      }
    }
    for (size_t g = 0; g < objects.size(); ++g)
      if (!taken[g] && !objects[g].difficult && !objects[g].crowd) add(objects[g].label, K);
  }
  return m;
}

std::string format_confusion_csv(const ConfusionMatrix& m, const std::vector<std::string>& class_names) {
  DETLAB_REQUIRE(static_cast<int>(class_names.size()) == m.num_classes, class_names.size(), m.num_classes);
  std::ostringstream os;
  os << "gt\\pred";
  for (const std::string& n : class_names) os << "," << csv_field(n);
  os << ",background\n";
  for (int r = 0; r <= m.num_classes; ++r) {
    os << (r < m.num_classes ? csv_field(class_names[r]) : std::string("background"));
    for (int c = 0; c <= m.num_classes; ++c) os << "," << m.at(r, c);
    os << "\n";
  }
  return os.str();
}

}  // namespace detlab
