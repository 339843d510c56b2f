// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// TIDE error analysis: tidecv's matching, error classification, error fixing and AP re-evaluation.
#include "eval/tide.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <numeric>

#include "core/error.h"

namespace detlab {

namespace {

constexpr int kNumRecallPoints = 101;  // tidecv's APDataObject: "Standard COCO Resolution" (0:0.01:1)

double box_iou(const Box& d, const Box& g, bool crowd) {
  const double w = std::min<double>(d.x2, g.x2) - std::max<double>(d.x1, g.x1);
  if (w <= 0) return 0;
  const double h = std::min<double>(d.y2, g.y2) - std::max<double>(d.y1, g.y1);
  if (h <= 0) return 0;
  const double i = w * h;
  const double da = (static_cast<double>(d.x2) - d.x1) * (static_cast<double>(d.y2) - d.y1);
  const double ga = (static_cast<double>(g.x2) - g.x1) * (static_cast<double>(g.y2) - g.y1);
  return i / (crowd ? da : da + ga - i);
}

struct DataPoint {
  int64_t id;
  double score;
  bool correct;
};

// tidecv's ClassedAPDataObject: per-class data points in insertion order; classes in first-touch order (the
// order tidecv's dict iterates, which fixes the summation order of the mAP).
struct ClassedAp {
  std::vector<std::vector<DataPoint>> points;
  std::vector<int64_t> num_gt;
  std::vector<char> touched;
  std::vector<int> order;

  explicit ClassedAp(int K) : points(K), num_gt(K, 0), touched(K, 0) {}
  void touch(int k) {
    if (!touched[k]) touched[k] = 1, order.push_back(k);
  }
  void push(int k, const DataPoint& p) { touch(k), points[k].push_back(p); }
  void add_gt(int k, int64_t n) { touch(k), num_gt[k] += n; }

  // APDataObject.get_ap(), as a fraction.
  double ap(int k) const {
    if (num_gt[k] == 0) return 0;
    std::vector<DataPoint> pts = points[k];
    std::stable_sort(pts.begin(), pts.end(), [](const DataPoint& a, const DataPoint& b) { return a.score > b.score; });
    std::vector<double> precision(pts.size()), recall(pts.size());
    int64_t num_true = 0, num_false = 0;
    for (size_t i = 0; i < pts.size(); ++i) {
      (pts[i].correct ? num_true : num_false) += 1;
      precision[i] = static_cast<double>(num_true) / static_cast<double>(num_true + num_false);
      recall[i] = static_cast<double>(num_true) / static_cast<double>(num_gt[k]);
    }
    for (size_t i = precision.size(); i-- > 1;)
      if (precision[i] > precision[i - 1]) precision[i - 1] = precision[i];
    double sum = 0;
    for (int b = 0; b < kNumRecallPoints; ++b) {
      const double x = b / 100.0;  // tidecv: x / resolution in Python (correctly rounded division)
      const size_t idx = std::lower_bound(recall.begin(), recall.end(), x) - recall.begin();
      if (idx < precision.size()) sum += precision[idx];
    }
    return sum / kNumRecallPoints;
  }
  double map() const {
    double sum = 0;
    int n = 0;
    for (int k : order)
      if (!(points[k].empty() && num_gt[k] == 0)) sum += ap(k), ++n;
    return n ? sum / n : 0.;
  }
};

struct GtState {
  int label = -1;
  bool used = false, usable = false;
  double best_score = -1;
  int64_t best_id = -1;
};

struct Err {
  TideError type;
  int64_t pred_id = -1;
  int pred_label = -1;
  double score = 0;
  int gt = -1;            // global gt index (Cls, Loc, Miss)
  bool has_match = false; // Cls / Loc: the gt was unused when the error was found (tidecv's BestGTMatch)
};

class TideRun {
 public:
  TideRun(const Dataset& gt, const std::vector<Detections>& by_image, const TideOptions& o)
      : opts_(o), K_(gt.num_classes()), base_(K_), fn_count_(K_, 0) {
    int64_t next_id = 0;
    for (size_t i = 0; i < gt.images.size(); ++i) {
      eval_image(gt.images[i], by_image[i], next_id);
      next_id += static_cast<int64_t>(by_image[i].size());
    }
  }

  TideResult result() const {
    TideResult r;
    r.options = opts_;
    r.ap = base_.map();
    for (int t = 0; t < 6; ++t) {
      const auto type = static_cast<TideError>(t);
      const ClassedAp fixed = fix([&](const Err& e) { return e.type == type; }, false, false);
      r.delta_ap[t] = std::max(fixed.map() - r.ap, 0.);
    }
    for (const Err& e : errors_) ++r.counts[static_cast<int>(e.type)];
    r.delta_ap_false_pos = fix([](const Err&) { return false; }, true, false).map() - r.ap;
    r.delta_ap_false_neg = fix([](const Err&) { return false; }, false, true).map() - r.ap;
    return r;
  }

 private:
  void eval_image(const ImageRecord& img, const Detections& dets, int64_t first_id) {
    std::vector<int> gts, ignore;  // object indices
    for (size_t j = 0; j < img.objects.size(); ++j)
      (img.objects[j].difficult || img.objects[j].crowd ? ignore : gts).push_back(static_cast<int>(j));
    const int g0 = static_cast<int>(gt_.size());
    for (int j : gts) {
      GtState s;
      s.label = img.objects[j].label;
      gt_.push_back(s);
      base_.add_gt(s.label, 1);
    }
    const size_t G = gts.size();
    if (dets.empty()) {
      for (size_t g = 0; g < G; ++g) {
        ++fn_count_[gt_[g0 + g].label];
        errors_.push_back({TideError::kMiss, -1, -1, 0, g0 + static_cast<int>(g), false});
      }
      return;
    }
    std::vector<int> order(dets.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return dets[a].score > dets[b].score; });
    if (order.size() > static_cast<size_t>(opts_.max_dets)) order.resize(opts_.max_dets);
    const size_t P = order.size();

    std::vector<double> iou(P * G), cls_iou(P * G);
    for (size_t p = 0; p < P; ++p)
      for (size_t g = 0; g < G; ++g) {
        iou[p * G + g] = box_iou(dets[order[p]].box, img.objects[gts[g]].box, false);
        cls_iou[p * G + g] = dets[order[p]].label == img.objects[gts[g]].label ? iou[p * G + g] : 0.;
      }
    // used: 1 matched, 0 not, -1 ignored (tidecv's True / False / None).
    std::vector<int> used(P, 0);
    std::vector<double> buffer = cls_iou;
    for (size_t p = 0; p < P && G > 0; ++p) {
      const double* row = buffer.data() + p * G;  // G may be 0: no &buffer[...]
      const size_t g = std::max_element(row, row + G) - row;  // np.argmax: first maximum
      if (row[g] >= opts_.pos_threshold) {
        used[p] = 1;
        gt_[g0 + g].used = true;
        for (size_t q = 0; q < P; ++q) buffer[q * G + g] = 0;
      }
    }
    for (int j : ignore) {
      const Object& region = img.objects[j];
      for (size_t p = 0; p < P; ++p)
        if (used[p] != 1 && box_iou(dets[order[p]].box, region.box, true) > opts_.pos_threshold &&
            region.label == dets[order[p]].label)
          used[p] = -1;
    }

    auto argmax = [&](const std::function<double(size_t)>& value) {  // np.argmax over the gt: first maximum
      size_t best = 0;
      for (size_t g = 1; g < G; ++g)
        if (value(g) > value(best)) best = g;
      return std::make_pair(best, value(best));
    };
    for (size_t p = 0; p < P; ++p) {
      const Detection& d = dets[order[p]];
      const int64_t id = first_id + order[p];
      if (used[p] != -1) base_.push(d.label, {id, static_cast<double>(d.score), used[p] == 1});
      if (used[p] != 0) continue;
      Err e{TideError::kBkg, id, d.label, static_cast<double>(d.score), -1, false};
      if (G == 0) {
        errors_.push_back(e);
        continue;
      }
      const double* ci = cls_iou.data() + p * G;  // G may be 0
      const double* ai = iou.data() + p * G;
      auto [gl, vl] = argmax([&](size_t g) { return ci[g]; });
      if (opts_.background_threshold <= vl && vl <= opts_.pos_threshold) {
        add_matched_error(e, TideError::kLoc, g0 + static_cast<int>(gl));
        continue;
      }
      auto [gc, vc] = argmax([&](size_t g) { return d.label == img.objects[gts[g]].label ? 0. : ai[g]; });
      if (vc >= opts_.pos_threshold) {
        add_matched_error(e, TideError::kCls, g0 + static_cast<int>(gc));
        continue;
      }
      if (argmax([&](size_t g) { return gt_[g0 + g].used ? ci[g] : 0.; }).second >= opts_.pos_threshold) {
        e.type = TideError::kDupe;
        errors_.push_back(e);
        continue;
      }
      const double vb = argmax([&](size_t g) { return ai[g]; }).second;
      e.type = vb <= opts_.background_threshold ? TideError::kBkg : TideError::kBoth;
      errors_.push_back(e);
    }
    for (size_t g = 0; g < G; ++g) {
      const GtState& s = gt_[g0 + g];
      if (s.used) continue;
      ++fn_count_[s.label];
      if (!s.usable) errors_.push_back({TideError::kMiss, -1, -1, 0, g0 + static_cast<int>(g), false});
    }
  }

  // tidecv's BestGTMatch: the highest-scoring Cls / Loc error of an unused gt is the one a fix turns into a
  // true positive (first one on ties, since detections arrive by descending score).
  void add_matched_error(Err e, TideError type, int g) {
    e.type = type;
    e.gt = g;
    GtState& s = gt_[g];
    if (!s.used) {
      e.has_match = true;
      s.usable = true;
      if (s.best_score < e.score) s.best_score = e.score, s.best_id = e.pred_id;
    }
    errors_.push_back(e);
  }

  // tidecv's TIDERun.fix_errors: errors meeting `cond` replaced by their fixed version, then every original
  // true positive, then the gt counts (less the fixed misses, or less every false negative).
  ClassedAp fix(const std::function<bool(const Err&)>& cond, bool zero_false_positives, bool remove_false_negatives) const {
    std::vector<int64_t> gt_pos = base_.num_gt;
    ClassedAp out(K_);
    auto push = [&](int k, int64_t id, double score, bool correct) {
      if (zero_false_positives) score = correct ? 1. : 0.;
      out.push(k, {id, score, correct});
    };
    for (const Err& e : errors_) {
      if (cond(e)) {
        if (e.type == TideError::kMiss) {
          gt_pos[gt_[e.gt].label] -= 1;
        } else if ((e.type == TideError::kCls || e.type == TideError::kLoc) && e.has_match &&
                   gt_[e.gt].best_id == e.pred_id) {
          push(e.type == TideError::kCls ? gt_[e.gt].label : e.pred_label, e.pred_id, e.score, true);
        }
      } else if (e.type != TideError::kMiss) {
        push(e.pred_label, e.pred_id, e.score, false);
      }
    }
    for (int k : base_.order)
      for (const DataPoint& p : base_.points[k])
        if (p.correct) push(k, p.id, p.score, true);
    for (int k : base_.order) out.add_gt(k, gt_pos[k] - (remove_false_negatives ? fn_count_[k] : 0));
    return out;
  }

  TideOptions opts_;
  int K_;
  ClassedAp base_;
  std::vector<GtState> gt_;
  std::vector<Err> errors_;
  std::vector<int64_t> fn_count_;
};

}  // namespace

const std::array<const char*, 6>& tide_error_names() {
  static const std::array<const char*, 6> names = {"Cls", "Loc", "Both", "Dupe", "Bkg", "Miss"};
  return names;
}

TideResult tide_errors(const Dataset& gt, const DetectionSet& dets, const TideOptions& opts) {
  DETLAB_REQUIRE(opts.max_dets > 0 && opts.background_threshold <= opts.pos_threshold, opts.max_dets,
                 opts.background_threshold, opts.pos_threshold);
  const std::vector<Detections> by_image = detections_by_image(gt, dets);
  return TideRun(gt, by_image, opts).result();
}

std::string format_tide(const TideResult& r) {
  char buf[256];
  std::string out;
  std::snprintf(buf, sizeof buf, "TIDE (bbox AP @ %.2f: %.2f)\n  Main errors   ", r.options.pos_threshold, 100 * r.ap);
  out += buf;
  for (const char* n : tide_error_names()) std::snprintf(buf, sizeof buf, "%7s", n), out += buf;
  out += "\n  dAP           ";
  for (double v : r.delta_ap) std::snprintf(buf, sizeof buf, "%7.2f", 100 * v), out += buf;
  out += "\n  count         ";
  for (int64_t c : r.counts) std::snprintf(buf, sizeof buf, "%7lld", static_cast<long long>(c)), out += buf;
  std::snprintf(buf, sizeof buf, "\n  Special errors  FalsePos %.2f  FalseNeg %.2f\n", 100 * r.delta_ap_false_pos,
                100 * r.delta_ap_false_neg);
  out += buf;
  return out;
}

}  // namespace detlab
