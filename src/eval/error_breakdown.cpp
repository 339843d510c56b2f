// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// error_breakdown: each class's top detections sorted into correct / localization / similar / other / background.
#include "eval/error_breakdown.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "core/csv.h"
#include "eval/voc_eval.h"

namespace detlab {

namespace {

struct Ranked {
  int image;
  double score;
  Box box;
};

/// The best IoU of `box` with the objects of image `objs` that pass `keep`, and the index of the first best
/// (np.argmax), -1 when none passes.
template <class Keep>
std::pair<double, int> best_overlap(const Box& box, const std::vector<Object>& objs, bool plus_one, Keep keep) {
  double best = -1;
  int at = -1;
  for (size_t j = 0; j < objs.size(); ++j) {
    if (!keep(objs[j])) continue;
    const double ov = voc_iou(box, objs[j].box, plus_one);
    if (ov > best) best = ov, at = static_cast<int>(j);
  }
  return {best, at};
}

ClassErrorBreakdown classify_class(const Dataset& gt, const std::vector<Detections>& by_image, int label,
                                   const std::vector<char>& similar, const ErrorBreakdownOptions& opts) {
  ClassErrorBreakdown r;
  for (const ImageRecord& im : gt.images)
    for (const Object& o : im.objects) r.num_gt += o.label == label && !(o.difficult || o.crowd);
  std::vector<Ranked> dets;
  for (size_t i = 0; i < by_image.size(); ++i)
    for (const Detection& d : by_image[i])
      if (d.label == label) dets.push_back({static_cast<int>(i), d.score, d.box});
  std::stable_sort(dets.begin(), dets.end(), [](const Ranked& a, const Ranked& b) { return a.score > b.score; });

  const int64_t top = opts.top > 0 ? opts.top : r.num_gt;
  std::vector<std::vector<char>> taken(gt.images.size());
  for (size_t i = 0; i < gt.images.size(); ++i) taken[i].assign(gt.images[i].objects.size(), 0);
  auto count = [&](ErrorKind k) { ++r.counts[static_cast<size_t>(k)]; };
  for (const Ranked& d : dets) {
    if (r.total() >= top) break;
    const std::vector<Object>& objs = gt.images[static_cast<size_t>(d.image)].objects;
    const auto [own, at] = best_overlap(d.box, objs, opts.plus_one, [&](const Object& o) { return o.label == label; });
    if (at >= 0 && own > opts.correct_iou) {
      const Object& o = objs[static_cast<size_t>(at)];
      if (o.difficult || o.crowd) continue;  // ignored, as the VOC metric ignores it
      char& used = taken[static_cast<size_t>(d.image)][static_cast<size_t>(at)];
      count(used ? ErrorKind::kLocalization : ErrorKind::kCorrect);
      used = 1;
      continue;
    }
    if (at >= 0 && own > opts.min_overlap) {
      count(ErrorKind::kLocalization);
      continue;
    }
    const auto is_similar = [&](const Object& o) { return o.label != label && similar[static_cast<size_t>(o.label)]; };
    if (best_overlap(d.box, objs, opts.plus_one, is_similar).first > opts.min_overlap) {
      count(ErrorKind::kSimilar);
      continue;
    }
    const auto is_other = [&](const Object& o) { return o.label != label; };
    count(best_overlap(d.box, objs, opts.plus_one, is_other).first > opts.min_overlap ? ErrorKind::kOther
                                                                                       : ErrorKind::kBackground);
  }
  return r;
}

std::string percent(const ClassErrorBreakdown& c, ErrorKind k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", 100.0 * c.fraction(k));
  return buf;
}

}  // namespace

const std::array<const char*, 5>& error_kind_names() {
  static const std::array<const char*, 5> names = {"correct", "localization", "similar", "other", "background"};
  return names;
}

int64_t ClassErrorBreakdown::total() const {
  int64_t n = 0;
  for (int64_t c : counts) n += c;
  return n;
}

double ClassErrorBreakdown::fraction(ErrorKind k) const {
  const int64_t n = total();
  return n == 0 ? 0.0 : static_cast<double>(counts[static_cast<size_t>(k)]) / static_cast<double>(n);
}

ErrorBreakdown error_breakdown(const Dataset& gt, const DetectionSet& dets, const ErrorBreakdownOptions& opts) {
  if (!(opts.min_overlap >= 0 && opts.min_overlap < opts.correct_iou && opts.correct_iou < 1))
    throw std::invalid_argument("error_breakdown: need 0 <= min_overlap < correct_iou < 1");
  if (opts.top < 0) throw std::invalid_argument("error_breakdown: top must be >= 0");
  const int k = gt.num_classes();
  // similar_to[c][c'] = 1 when c and c' share a group.
  std::vector<std::vector<char>> similar_to(static_cast<size_t>(k), std::vector<char>(static_cast<size_t>(k), 0));
  for (const std::vector<int>& group : opts.similar) {
    for (int c : group)
      if (c < 0 || c >= k)
        throw std::invalid_argument("error_breakdown: similar class " + std::to_string(c) + " is not a label");
    for (int a : group)
      for (int b : group) similar_to[static_cast<size_t>(a)][static_cast<size_t>(b)] = a != b;
  }
  const std::vector<Detections> by_image = detections_by_image(gt, dets);
  ErrorBreakdown out;
  out.options = opts;
  for (int c = 0; c < k; ++c) {
    out.classes.push_back(classify_class(gt, by_image, c, similar_to[static_cast<size_t>(c)], opts));
    out.all.num_gt += out.classes.back().num_gt;
    for (size_t e = 0; e < out.all.counts.size(); ++e) out.all.counts[e] += out.classes.back().counts[e];
  }
  return out;
}

std::string format_error_breakdown(const ErrorBreakdown& b, const std::vector<std::string>& class_names) {
  std::ostringstream s;
  s << "Top detections per class (N = " << (b.options.top > 0 ? std::to_string(b.options.top) : "its objects")
    << "), % (after Hoiem et al. 2012, as YOLO v1's figure 4)\n\n| class | N | detections |";
  for (const char* name : error_kind_names()) s << ' ' << name << " |";
  s << "\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
  auto row = [&](const std::string& name, const ClassErrorBreakdown& c) {
    s << "| " << name << " | " << c.num_gt << " | " << c.total() << " |";
    for (size_t e = 0; e < c.counts.size(); ++e) s << ' ' << percent(c, static_cast<ErrorKind>(e)) << " |";
    s << '\n';
  };
  for (size_t c = 0; c < b.classes.size(); ++c)
    row(c < class_names.size() ? class_names[c] : std::to_string(c), b.classes[c]);
  row("all", b.all);
  return s.str();
}

std::string format_error_breakdown_csv(const ErrorBreakdown& b, const std::vector<std::string>& class_names) {
  std::ostringstream s;
  s << "class,num_gt,detections";
  for (const char* name : error_kind_names()) s << ',' << name;
  s << '\n';
  auto row = [&](const std::string& name, const ClassErrorBreakdown& c) {
    s << csv_field(name) << ',' << c.num_gt << ',' << c.total();
    for (int64_t n : c.counts) s << ',' << n;
    s << '\n';
  };
  for (size_t c = 0; c < b.classes.size(); ++c)
    row(c < class_names.size() ? class_names[c] : std::to_string(c), b.classes[c]);
  row("all", b.all);
  return s.str();
}

}  // namespace detlab
