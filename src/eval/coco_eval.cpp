// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// COCO bbox evaluation: pycocotools' evaluate() (per-image matching) and accumulate(), category-parallel.
#include "eval/coco_eval.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "eval/numeric.h"
#include "core/parallel.h"

namespace detlab {

namespace {

// A box as pycocotools holds it: double precision, with w and h computed once (maskApi.c bbIou).
struct EvalBox {
  double x1, y1, x2, y2, w, h;
};

EvalBox eval_box(const Box& b) {
  const double x1 = b.x1, y1 = b.y1, x2 = b.x2, y2 = b.y2;
  return {x1, y1, x2, y2, x2 - x1, y2 - y1};
}

// maskApi.c bbIou for one pair; x + w == x2 exactly because w = x2 - x1 is exact for float inputs.
double bb_iou(const EvalBox& d, const EvalBox& g, bool crowd) {
  const double w = std::min(d.x2, g.x2) - std::max(d.x1, g.x1);
  if (w <= 0) return 0;
  const double h = std::min(d.y2, g.y2) - std::max(d.y1, g.y1);
  if (h <= 0) return 0;
  const double i = w * h;
  const double da = d.w * d.h;
  const double u = crowd ? da : da + g.w * g.h - i;
  return i / u;
}

// Stable sort of indices by descending score. Most (image, category) cells hold a handful of detections: an
// insertion sort avoids std::stable_sort's buffer allocation there; both are stable, so results are identical.
template <class ScoreOf>
void stable_sort_by_score(std::vector<int>& idx, ScoreOf score) {
  constexpr size_t kInsertionSortMax = 32;  // beyond this the O(n^2) moves cost more than the allocation
  if (idx.size() > kInsertionSortMax) {
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return score(a) > score(b); });
    return;
  }
  for (size_t i = 1; i < idx.size(); ++i) {
    const int v = idx[i];
    const auto s = score(v);
    size_t j = i;
    for (; j > 0 && score(idx[j - 1]) < s; --j) idx[j] = idx[j - 1];
    idx[j] = v;
  }
}

struct Ref {
  int image;  // position in ascending-id image order
  int index;  // object / detection index within the image
};

struct Inputs {
  std::vector<int> image_order;                 // gt image indices by ascending id
  std::vector<Detections> dets;                 // per gt image index
  std::vector<std::vector<Ref>> gt_refs, dt_refs;  // per label, by image position
};

Inputs gather(const Dataset& gt, const DetectionSet& dets) {
  Inputs in;
  in.dets = detections_by_image(gt, dets);
  in.image_order.resize(gt.images.size());
  std::iota(in.image_order.begin(), in.image_order.end(), 0);
  std::stable_sort(in.image_order.begin(), in.image_order.end(),
                   [&](int a, int b) { return gt.images[a].id < gt.images[b].id; });
  const int K = gt.num_classes();
  in.gt_refs.resize(K);
  in.dt_refs.resize(K);
  for (int pos = 0; pos < static_cast<int>(in.image_order.size()); ++pos) {
    const int i = in.image_order[pos];
    const auto& objects = gt.images[i].objects;
    for (int j = 0; j < static_cast<int>(objects.size()); ++j) {
      DETLAB_REQUIRE(objects[j].label >= 0 && objects[j].label < K, gt.images[i].name, objects[j].label, K);
      in.gt_refs[objects[j].label].push_back({pos, j});
    }
    for (int j = 0; j < static_cast<int>(in.dets[i].size()); ++j) in.dt_refs[in.dets[i][j].label].push_back({pos, j});
  }
  return in;
}

void check_options(const CocoEvalOptions& o) {
  DETLAB_REQUIRE(!o.iou_thresholds.empty() && !o.rec_thresholds.empty() && !o.area_ranges.empty() &&
                     !o.max_dets.empty(),
                 o.iou_thresholds.size(), o.rec_thresholds.size(), o.area_ranges.size(), o.max_dets.size());
  for (int m : o.max_dets) DETLAB_REQUIRE(m > 0, "max_dets must be positive", m);
}

// evaluateImg() for every area range and IoU threshold of one (image, category), appending to `out`.
class ImageMatcher {
 public:
  explicit ImageMatcher(const CocoEvalOptions& o) : opts(o) {}

  const CocoEvalOptions& opts;
  // Scratch buffers, reused across images.
  std::vector<EvalBox> gboxes, dboxes;
  std::vector<double> garea, darea, ious;
  std::vector<char> crowd, ignore, sorted_ignore, sorted_crowd, matched;
  std::vector<int> dorder, gorder;

  void run(const ImageRecord& img, const std::vector<int>& gt_idx, const Detections& dets,
           const std::vector<int>& dt_idx, CocoCategoryMatches& out, std::vector<std::vector<uint8_t>>& states) {
    const size_t G = gt_idx.size();
    gboxes.clear(), garea.clear(), crowd.clear();
    for (int j : gt_idx) {
      const Object& o = img.objects[j];
      gboxes.push_back(eval_box(o.box));
      garea.push_back(o.area >= 0 ? static_cast<double>(o.area) : gboxes.back().w * gboxes.back().h);
      crowd.push_back(o.crowd);
    }
    // Detections by descending score, stable (np.argsort(-score, kind='mergesort')), cut at maxDets[-1].
    dorder.resize(dt_idx.size());
    std::iota(dorder.begin(), dorder.end(), 0);
    stable_sort_by_score(dorder, [&](int i) { return dets[dt_idx[i]].score; });
    if (dorder.size() > static_cast<size_t>(opts.max_dets.back())) dorder.resize(opts.max_dets.back());
    const size_t D = dorder.size();
    dboxes.clear(), darea.clear();
    for (size_t d = 0; d < D; ++d) {
      const Detection& det = dets[dt_idx[dorder[d]]];
      dboxes.push_back(eval_box(det.box));
      darea.push_back(dboxes.back().w * dboxes.back().h);
      out.scores.push_back(det.score);
      out.rank.push_back(static_cast<int32_t>(d));
    }
    ious.assign(D * G, 0.);
    for (size_t d = 0; d < D; ++d)
      for (size_t g = 0; g < G; ++g) ious[d * G + g] = bb_iou(dboxes[d], gboxes[g], crowd[g]);

    const size_t T = opts.iou_thresholds.size();
    for (size_t a = 0; a < opts.area_ranges.size(); ++a) {
      const AreaRange& range = opts.area_ranges[a];
      ignore.resize(G);
      int64_t kept = 0;
      for (size_t g = 0; g < G; ++g) {
        ignore[g] = crowd[g] || garea[g] < range.min || garea[g] > range.max;
        kept += !ignore[g];
      }
      out.num_gt[a] += kept;
      // gt with ignore == 0 first, in input order (np.argsort(ignore, kind='mergesort')).
      gorder.clear();
      for (size_t g = 0; g < G; ++g)
        if (!ignore[g]) gorder.push_back(static_cast<int>(g));
      for (size_t g = 0; g < G; ++g)
        if (ignore[g]) gorder.push_back(static_cast<int>(g));
      sorted_ignore.resize(G), sorted_crowd.resize(G);
      for (size_t j = 0; j < G; ++j) sorted_ignore[j] = ignore[gorder[j]], sorted_crowd[j] = crowd[gorder[j]];

      for (size_t t = 0; t < T; ++t) {
        std::vector<uint8_t>& st = states[a * T + t];
        const double thr = std::min(opts.iou_thresholds[t], 1 - 1e-10);
        matched.assign(G, 0);
        for (size_t d = 0; d < D; ++d) {
          double best = thr;
          int m = -1;
          const double* row = ious.data() + d * G;  // no &ious[...]: G may be 0 (an image without ground truth)
          for (size_t j = 0; j < G; ++j) {
            if (matched[j] && !sorted_crowd[j]) continue;  // taken, and not a crowd region
            if (m > -1 && !sorted_ignore[m] && sorted_ignore[j]) break;  // real match found; only ignored gt left
            const double v = row[gorder[j]];
            if (v < best) continue;
            best = v;
            m = static_cast<int>(j);
          }
          uint8_t s;
          if (m == -1) {
            s = (darea[d] < range.min || darea[d] > range.max) ? CocoCategoryMatches::kIgnored
                                                              : CocoCategoryMatches::kFalsePositive;
          } else {
            matched[m] = 1;
            s = sorted_ignore[m] ? CocoCategoryMatches::kIgnored : CocoCategoryMatches::kTruePositive;
          }
          st.push_back(s);
        }
      }
    }
  }
};

void match_category(const Dataset& gt, const Inputs& in, int k, const CocoEvalOptions& opts,
                    CocoCategoryMatches& out) {
  const size_t A = opts.area_ranges.size(), T = opts.iou_thresholds.size();
  out.num_gt.assign(A, 0);
  std::vector<std::vector<uint8_t>> states(A * T);
  ImageMatcher matcher(opts);
  const std::vector<Ref>& gr = in.gt_refs[k];
  const std::vector<Ref>& dr = in.dt_refs[k];
  std::vector<int> gt_idx, dt_idx;
  size_t gi = 0, di = 0;
  while (gi < gr.size() || di < dr.size()) {
    const int pos = std::min(gi < gr.size() ? gr[gi].image : INT32_MAX, di < dr.size() ? dr[di].image : INT32_MAX);
    gt_idx.clear(), dt_idx.clear();
    for (; gi < gr.size() && gr[gi].image == pos; ++gi) gt_idx.push_back(gr[gi].index);
    for (; di < dr.size() && dr[di].image == pos; ++di) dt_idx.push_back(dr[di].index);
    const int i = in.image_order[pos];
    matcher.run(gt.images[i], gt_idx, in.dets[i], dt_idx, out, states);
  }
  const size_t D = out.scores.size();
  out.state.resize(A * T * D);
  for (size_t at = 0; at < A * T; ++at) {
    DETLAB_CHECK(states[at].size() == D, states[at].size(), D);
    std::copy(states[at].begin(), states[at].end(), out.state.begin() + at * D);
  }
}

// accumulate() for one category: every (area, maxDet, IoU) cell of precision / recall / scores.
//
// Bit-identical to cocoeval.py without materialising its per-detection arrays: between two true positives
// precision only falls (false positives) or stays (ignored detections), so the envelope max_{j>=i} pr[j] is
// max(pr[i], pr at the true positives after i), and recall only steps at true positives, so every searchsorted
// hit is a true positive, or the first detection when the threshold is <= its recall. Precision and recall are
// therefore evaluated (with pycocotools' exact expressions) at true positives only.
void accumulate_category(const CocoMatches& mt, int k, CocoEvalResult& r) {
  const CocoEvalOptions& o = mt.options;
  const CocoCategoryMatches& c = mt.categories[k];
  const size_t T = r.T(), R = r.R(), A = r.A(), M = r.M(), K = r.num_classes, D = c.scores.size();
  // One stable sort by descending score serves every maxDet: the selection for a smaller maxDet is a
  // subsequence of the concatenation, so its stable order is the same subsequence of this order.
  std::vector<int> order(D);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return c.scores[a] > c.scores[b]; });
  std::vector<int32_t> rank(D);
  for (size_t i = 0; i < D; ++i) rank[i] = c.rank[order[i]];
  std::vector<uint8_t> state(D);
  struct TruePositive {
    size_t pos;        // index into the sorted detections
    double rc, pr, env;
  };
  std::vector<TruePositive> tps;
  for (size_t a = 0; a < A; ++a) {
    const int64_t npig = c.num_gt[a];
    if (npig == 0) continue;  // stays -1, as pycocotools
    const double n_gt = static_cast<double>(npig);
    for (size_t t = 0; t < T; ++t) {
      const uint8_t* st = c.state.data() + (a * T + t) * D;  // D may be 0: no &state[...]
      for (size_t i = 0; i < D; ++i) state[i] = st[order[i]];
      for (size_t m = 0; m < M; ++m) {
        const int32_t max_det = o.max_dets[m];
        tps.clear();
        int64_t tp = 0, fp = 0, nd = 0;
        size_t first = 0;
        bool first_is_tp = false;
        for (size_t i = 0; i < D; ++i) {
          if (rank[i] >= max_det) continue;
          const uint8_t s = state[i];
          if (nd == 0) first = i, first_is_tp = s == CocoCategoryMatches::kTruePositive;
          ++nd;
          if (s == CocoCategoryMatches::kTruePositive) {
            ++tp;
            tps.push_back({i, static_cast<double>(tp) / n_gt,
                           static_cast<double>(tp) / (static_cast<double>(fp + tp) + kFloat64Eps), 0.});
          } else if (s == CocoCategoryMatches::kFalsePositive) {
            ++fp;
          }
        }
        r.recall[((t * K + k) * A + a) * M + m] = nd ? static_cast<double>(tp) / n_gt : 0.;
        double env = 0.;
        for (size_t q = tps.size(); q-- > 0;) tps[q].env = env = std::max(tps[q].pr, env);
        // Recall (and precision: tp = 0 there) at the first detection, unless it is a true positive.
        const double rc0 = first_is_tp ? tps.front().rc : 0.;
        const double env0 = tps.empty() ? 0. : tps.front().env;
        for (size_t ri = 0; ri < R; ++ri) {
          const size_t idx = (((t * R + ri) * K + k) * A + a) * M + m;
          const double thr = o.rec_thresholds[ri];
          if (nd > 0 && thr <= rc0) {  // searchsorted -> 0
            r.precision[idx] = env0;
            r.scores[idx] = c.scores[order[first]];
            continue;
          }
          const auto hit = std::lower_bound(tps.begin(), tps.end(), thr,
                                            [](const TruePositive& p, double v) { return p.rc < v; });
          if (hit == tps.end()) {
            // pycocotools' try/except leaves zeros from here on (later thresholds are larger).
            for (size_t rj = ri; rj < R; ++rj) {
              const size_t j = (((t * R + rj) * K + k) * A + a) * M + m;
              r.precision[j] = 0, r.scores[j] = 0;
            }
            break;
          }
          r.precision[idx] = hit->env;
          r.scores[idx] = c.scores[order[hit->pos]];
        }
      }
    }
  }
}

}  // namespace

std::vector<double> coco_iou_thresholds() { return numpy_linspace(0.5, 0.95, 10); }
std::vector<double> coco_rec_thresholds() { return numpy_linspace(0.0, 1.0, 101); }
std::vector<AreaRange> coco_area_ranges() {
  // pycocotools: [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]].
  return {{"all", 0, 1e10}, {"small", 0, 1024}, {"medium", 1024, 9216}, {"large", 9216, 1e10}};
}

CocoMatches coco_match(const Dataset& gt, const DetectionSet& dets, const CocoEvalOptions& opts) {
  check_options(opts);
  const Inputs in = gather(gt, dets);
  CocoMatches out;
  out.options = opts;
  out.category_ids = gt.category_ids;
  if (out.category_ids.size() != static_cast<size_t>(gt.num_classes())) {
    out.category_ids.resize(gt.num_classes());
    std::iota(out.category_ids.begin(), out.category_ids.end(), 1);  // the Dataset default: label + 1
  }
  out.categories.resize(gt.num_classes());
  parallel_for(gt.num_classes(), opts.threads, [&](int k, int) { match_category(gt, in, k, opts, out.categories[k]); });
  return out;
}

CocoEvalResult coco_accumulate(const CocoMatches& matches) {
  CocoEvalResult r;
  r.options = matches.options;
  r.category_ids = matches.category_ids;
  r.num_classes = static_cast<int>(matches.categories.size());
  const size_t T = r.T(), R = r.R(), K = r.num_classes, A = r.A(), M = r.M();
  r.precision.assign(T * R * K * A * M, -1.);
  r.scores.assign(T * R * K * A * M, -1.);
  r.recall.assign(T * K * A * M, -1.);
  r.num_gt.assign(K * A, 0);
  for (size_t k = 0; k < K; ++k)
    for (size_t a = 0; a < A; ++a) r.num_gt[k * A + a] = matches.categories[k].num_gt[a];
  parallel_for(r.num_classes, matches.options.threads, [&](int k, int) { accumulate_category(matches, k, r); });
  r.stats = coco_stats(r);
  return r;
}

CocoEvalResult evaluate_coco(const Dataset& gt, const DetectionSet& dets, const CocoEvalOptions& opts) {
  return coco_accumulate(coco_match(gt, dets, opts));
}

}  // namespace detlab
