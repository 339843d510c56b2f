// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// COCO summary: pycocotools' _summarize() (12 stats), generalised to any max_dets, and its printed form.
#include <algorithm>
#include <cstdio>
#include <numeric>

#include "core/error.h"
#include "eval/coco_eval.h"
#include "eval/numeric.h"

namespace detlab {

namespace {

// Categories in ascending id order: pycocotools' K axis (params.catIds is sorted), which fixes the order of
// numpy's pairwise summation in the mean.
std::vector<size_t> category_order(const CocoEvalResult& r) {
  std::vector<size_t> order(r.num_classes);
  std::iota(order.begin(), order.end(), 0);
  if (r.category_ids.size() == order.size())
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return r.category_ids[a] < r.category_ids[b]; });
  return order;
}

std::vector<size_t> iou_indices(const CocoEvalResult& r, double iou) {
  std::vector<size_t> t;
  for (size_t i = 0; i < r.T(); ++i)
    if (iou < 0 || r.options.iou_thresholds[i] == iou) t.push_back(i);
  return t;
}

int area_index(const CocoEvalResult& r, const std::string& label) {
  for (size_t a = 0; a < r.A(); ++a)
    if (r.options.area_ranges[a].label == label) return static_cast<int>(a);
  return -1;
}

struct StatSpec {
  bool ap;
  double iou;  // < 0: all thresholds
  const char* area;
  int max_det;
};

std::array<StatSpec, 12> stat_specs(const CocoEvalOptions& o) {
  const std::vector<int>& md = o.max_dets;
  const int last = md.back(), first = md.front(), second = md[std::min<size_t>(1, md.size() - 1)];
  return {{{true, -1, "all", last},
           {true, .5, "all", last},
           {true, .75, "all", last},
           {true, -1, "small", last},
           {true, -1, "medium", last},
           {true, -1, "large", last},
           {false, -1, "all", first},
           {false, -1, "all", second},
           {false, -1, "all", last},
           {false, -1, "small", last},
           {false, -1, "medium", last},
           {false, -1, "large", last}}};
}

}  // namespace

const std::array<const char*, 12>& coco_stat_names() {
  static const std::array<const char*, 12> names = {"AP",    "AP50", "AP75",  "APs",  "APm",  "APl",
                                                    "AR1",   "AR10", "AR100", "ARs",  "ARm",  "ARl"};
  return names;
}

double coco_summarize(const CocoEvalResult& r, bool ap, double iou, const std::string& area, int max_det) {
  const int a = area_index(r, area);
  const auto mit = std::find(r.options.max_dets.begin(), r.options.max_dets.end(), max_det);
  if (a < 0 || mit == r.options.max_dets.end()) return -1;
  const size_t m = mit - r.options.max_dets.begin();
  const std::vector<size_t> ks = category_order(r);
  std::vector<double> kept;
  for (size_t t : iou_indices(r, iou)) {
    if (ap) {
      for (size_t ri = 0; ri < r.R(); ++ri)
        for (size_t k : ks) {
          const double v = r.precision_at(t, ri, k, a, m);
          if (v > -1) kept.push_back(v);
        }
    } else {
      for (size_t k : ks) {
        const double v = r.recall_at(t, k, a, m);
        if (v > -1) kept.push_back(v);
      }
    }
  }
  return kept.empty() ? -1. : numpy_mean(kept);
}

std::array<double, 12> coco_stats(const CocoEvalResult& r) {
  std::array<double, 12> stats{};
  const auto specs = stat_specs(r.options);
  for (size_t i = 0; i < specs.size(); ++i)
    stats[i] = coco_summarize(r, specs[i].ap, specs[i].iou, specs[i].area, specs[i].max_det);
  return stats;
}

std::string format_coco_summary(const CocoEvalResult& r) {
  const auto specs = stat_specs(r.options);
  std::string out;
  char line[160];
  for (size_t i = 0; i < specs.size(); ++i) {
    const StatSpec& s = specs[i];
    char iou[32];
    if (s.iou < 0)
      std::snprintf(iou, sizeof iou, "%0.2f:%0.2f", r.options.iou_thresholds.front(), r.options.iou_thresholds.back());
    else
      std::snprintf(iou, sizeof iou, "%0.2f", s.iou);
    // pycocotools: ' {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}'
    std::snprintf(line, sizeof line, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
                  s.ap ? "Average Precision" : "Average Recall", s.ap ? "(AP)" : "(AR)", iou, s.area, s.max_det,
                  r.stats[i]);
    out += line;
  }
  return out;
}

double coco_class_ap(const CocoEvalResult& r, int label, double iou) {
  DETLAB_REQUIRE(label >= 0 && label < r.num_classes, label, r.num_classes);
  int a = area_index(r, "all");
  if (a < 0) a = 0;
  const size_t m = r.M() - 1;
  std::vector<double> kept;
  for (size_t t : iou_indices(r, iou))
    for (size_t ri = 0; ri < r.R(); ++ri) {
      const double v = r.precision_at(t, ri, label, a, m);
      if (v > -1) kept.push_back(v);
    }
  return kept.empty() ? -1. : numpy_mean(kept);
}

}  // namespace detlab
