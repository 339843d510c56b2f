// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// PASCAL VOC AP: greedy matching by descending score with difficult objects ignored, 11-point / all-point AP.
#include "eval/voc_eval.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "eval/numeric.h"
#include "core/parallel.h"

namespace detlab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct ClassDet {
  int image;  // gt image index
  double score;
  Box box;
};

VocClassResult evaluate_class(const Dataset& gt, const std::vector<Detections>& by_image, int label,
                              const VocOptions& opts) {
  VocClassResult r;
  // Per image: indices of this class's objects (difficult included: they can absorb a detection).
  std::vector<std::vector<int>> objects(gt.images.size());
  for (size_t i = 0; i < gt.images.size(); ++i) {
    const auto& objs = gt.images[i].objects;
    for (size_t j = 0; j < objs.size(); ++j) {
      if (objs[j].label != label) continue;
      objects[i].push_back(static_cast<int>(j));
      r.num_gt += !(objs[j].difficult || objs[j].crowd);
    }
  }
  std::vector<ClassDet> dets;
  for (size_t i = 0; i < by_image.size(); ++i)
    for (const Detection& d : by_image[i])
      if (d.label == label) dets.push_back({static_cast<int>(i), d.score, d.box});
  std::stable_sort(dets.begin(), dets.end(), [](const ClassDet& a, const ClassDet& b) { return a.score > b.score; });
  r.num_dets = static_cast<int64_t>(dets.size());

  std::vector<std::vector<char>> used(gt.images.size());
  for (size_t i = 0; i < gt.images.size(); ++i) used[i].assign(objects[i].size(), 0);
  const size_t nd = dets.size();
  r.scores.resize(nd), r.recall.resize(nd), r.precision.resize(nd);
  double tp = 0, fp = 0;  // np.cumsum of float64 0/1 arrays
  for (size_t d = 0; d < nd; ++d) {
    const ClassDet& det = dets[d];
    const auto& objs = gt.images[det.image].objects;
    const std::vector<int>& cand = objects[det.image];
    double ovmax = -std::numeric_limits<double>::infinity();
    size_t jmax = 0;
    for (size_t c = 0; c < cand.size(); ++c) {
      const double ov = voc_iou(det.box, objs[cand[c]].box, opts.plus_one);
      if (ov > ovmax) ovmax = ov, jmax = c;  // np.argmax: first maximum
    }
    if (ovmax > opts.iou_threshold) {
      const Object& o = objs[cand[jmax]];
      if (!(o.difficult || o.crowd)) {
        if (!used[det.image][jmax]) {
          tp += 1;
          used[det.image][jmax] = 1;
        } else {
          fp += 1;
        }
      }
    } else {
      fp += 1;
    }
    r.scores[d] = det.score;
    r.recall[d] = tp / static_cast<double>(r.num_gt);
    r.precision[d] = tp / std::max(tp + fp, kFloat64Eps);
  }
  r.num_tp = static_cast<int64_t>(tp);
  r.ap = r.num_gt > 0 ? voc_ap(r.recall, r.precision, opts.use_07_metric) : kNaN;
  if (r.num_gt == 0) std::fill(r.recall.begin(), r.recall.end(), kNaN);
  return r;
}

}  // namespace

double voc_iou(const Box& d, const Box& g, bool plus_one) {
  const double one = plus_one ? 1. : 0.;
  const double bx1 = d.x1, by1 = d.y1, bx2 = d.x2, by2 = d.y2;
  const double gx1 = g.x1, gy1 = g.y1, gx2 = g.x2, gy2 = g.y2;
  const double iw = std::max(std::min(gx2, bx2) - std::max(gx1, bx1) + one, 0.);
  const double ih = std::max(std::min(gy2, by2) - std::max(gy1, by1) + one, 0.);
  const double inters = iw * ih;
  const double uni = ((bx2 - bx1 + one) * (by2 - by1 + one) + (gx2 - gx1 + one) * (gy2 - gy1 + one)) - inters;
  return inters / uni;
}

double voc_ap(const std::vector<double>& rec, const std::vector<double>& prec, bool use_07_metric) {
  DETLAB_REQUIRE(rec.size() == prec.size(), rec.size(), prec.size());
  if (use_07_metric) {
    double ap = 0.;
    for (double t : numpy_arange(0., 1.1, 0.1)) {
      double p = 0;
      bool any = false;
      for (size_t i = 0; i < rec.size(); ++i)
        if (rec[i] >= t) p = any ? std::max(p, prec[i]) : prec[i], any = true;
      ap = ap + p / 11.;
    }
    return ap;
  }
  std::vector<double> mrec(rec.size() + 2), mpre(prec.size() + 2);
  mrec.front() = 0., mrec.back() = 1., mpre.front() = 0., mpre.back() = 0.;
  std::copy(rec.begin(), rec.end(), mrec.begin() + 1);
  std::copy(prec.begin(), prec.end(), mpre.begin() + 1);
  for (size_t i = mpre.size() - 1; i > 0; --i) mpre[i - 1] = std::max(mpre[i - 1], mpre[i]);
  std::vector<double> terms;
  for (size_t i = 0; i + 1 < mrec.size(); ++i)
    if (mrec[i + 1] != mrec[i]) terms.push_back((mrec[i + 1] - mrec[i]) * mpre[i + 1]);
  return numpy_sum(terms);
}

VocResult evaluate_voc(const Dataset& gt, const DetectionSet& dets, const VocOptions& opts) {
  DETLAB_REQUIRE(std::isfinite(opts.iou_threshold), opts.iou_threshold);
  const std::vector<Detections> by_image = detections_by_image(gt, dets);
  VocResult r;
  r.options = opts;
  r.classes.resize(gt.num_classes());
  parallel_for(gt.num_classes(), opts.threads,
               [&](int k, int) { r.classes[k] = evaluate_class(gt, by_image, k, opts); });
  std::vector<double> aps;
  for (const VocClassResult& c : r.classes)
    if (c.num_gt > 0) aps.push_back(c.ap);
  r.map = numpy_mean(aps);
  return r;
}

std::string format_voc_summary(const VocResult& r, const std::vector<std::string>& class_names,
                               const std::string& title) {
  size_t width = 3;
  for (const std::string& n : class_names) width = std::max(width, n.size());
  char buf[64];
  std::snprintf(buf, sizeof buf, " (%s, IoU > %.2f%s)\n", r.options.use_07_metric ? "11-point" : "all-point",
                r.options.iou_threshold, r.options.plus_one ? ", +1 areas" : "");
  std::string out = title + buf;
  auto row = [&](const std::string& name, double v, const std::string& note) {
    std::string padded = name;
    padded.resize(width, ' ');
    if (std::isnan(v))
      std::snprintf(buf, sizeof buf, "     n/a");
    else
      std::snprintf(buf, sizeof buf, "  %.4f", v);
    out += "  " + padded + buf + note + "\n";
  };
  for (size_t k = 0; k < r.classes.size(); ++k) {
    const std::string name = k < class_names.size() ? class_names[k] : std::to_string(k);
    const VocClassResult& c = r.classes[k];
    row(name, c.ap, "  (" + std::to_string(c.num_gt) + " gt, " + std::to_string(c.num_dets) + " dets)");
  }
  row("mAP", r.map, "");
  return out;
}

}  // namespace detlab
