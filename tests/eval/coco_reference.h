// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Naive reference of pycocotools' COCOeval (bbox): a line-by-line port of evaluateImg / accumulate for tests.
#pragma once

#include <algorithm>
#include <map>
#include <numeric>
#include <vector>

#include "data/dataset.h"
#include "eval/coco_eval.h"

namespace detlab::reference {

// Mirrors cocoeval.py: one dict per (category, area range, image) from evaluateImg, then accumulate() with a
// fresh concatenation and stable sort per (category, area, maxDet). Slow and literal on purpose.
struct EvalImg {
  bool none = true;
  std::vector<double> dt_scores;
  std::vector<std::vector<int>> dtm;     // [T][D]: matched gt id + 1 (0: unmatched)
  std::vector<std::vector<int>> dt_ig;   // [T][D]
  std::vector<int> gt_ig;
};

struct Ann {
  double x, y, w, h, area, score;
  bool crowd;
};

inline double iou_xywh(const Ann& d, const Ann& g, bool crowd) {
  const double w = std::min(d.w + d.x, g.w + g.x) - std::max(d.x, g.x);
  if (w <= 0) return 0;
  const double h = std::min(d.h + d.y, g.h + g.y) - std::max(d.y, g.y);
  if (h <= 0) return 0;
  const double i = w * h, da = d.w * d.h, ga = g.w * g.h;
  return i / (crowd ? da : da + ga - i);
}

inline std::vector<int> stable_argsort_desc(const std::vector<double>& s) {
  std::vector<int> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return -s[a] < -s[b]; });
  return idx;
}

inline EvalImg evaluate_img(std::vector<Ann> gt, std::vector<Ann> dt, const AreaRange& rng, int max_det,
                            const std::vector<double>& iou_thrs) {
  EvalImg e;
  if (gt.empty() && dt.empty()) return e;
  e.none = false;
  // computeIoU: dets sorted by score, cut at maxDets[-1] (== max_det here), IoU against gt in input order.
  {
    std::vector<double> s;
    for (const Ann& d : dt) s.push_back(d.score);
    std::vector<Ann> sorted;
    for (int i : stable_argsort_desc(s)) sorted.push_back(dt[i]);
    if (static_cast<int>(sorted.size()) > max_det) sorted.resize(max_det);
    dt = sorted;
  }
  std::vector<int> ig(gt.size());
  for (size_t g = 0; g < gt.size(); ++g) ig[g] = gt[g].crowd || gt[g].area < rng.min || gt[g].area > rng.max;
  std::vector<int> gtind(gt.size());
  std::iota(gtind.begin(), gtind.end(), 0);
  std::stable_sort(gtind.begin(), gtind.end(), [&](int a, int b) { return ig[a] < ig[b]; });
  std::vector<std::vector<double>> ious(dt.size(), std::vector<double>(gt.size()));
  for (size_t d = 0; d < dt.size(); ++d)
    for (size_t g = 0; g < gt.size(); ++g) ious[d][g] = iou_xywh(dt[d], gt[gtind[g]], gt[gtind[g]].crowd);
  std::vector<Ann> sgt;
  for (int i : gtind) sgt.push_back(gt[i]);
  for (int i : gtind) e.gt_ig.push_back(ig[i]);
  const size_t T = iou_thrs.size(), G = sgt.size(), D = dt.size();
  std::vector<std::vector<int>> gtm(T, std::vector<int>(G, 0));
  e.dtm.assign(T, std::vector<int>(D, 0));
  e.dt_ig.assign(T, std::vector<int>(D, 0));
  if (G > 0 && D > 0) {
    for (size_t t = 0; t < T; ++t)
      for (size_t d = 0; d < D; ++d) {
        double iou = std::min(iou_thrs[t], 1 - 1e-10);
        int m = -1;
        for (size_t g = 0; g < G; ++g) {
          if (gtm[t][g] > 0 && !sgt[g].crowd) continue;
          if (m > -1 && e.gt_ig[m] == 0 && e.gt_ig[g] == 1) break;
          if (ious[d][g] < iou) continue;
          iou = ious[d][g];
          m = static_cast<int>(g);
        }
        if (m == -1) continue;
        e.dt_ig[t][d] = e.gt_ig[m];
        e.dtm[t][d] = m + 1;
        gtm[t][m] = static_cast<int>(d) + 1;
      }
  }
  for (size_t d = 0; d < D; ++d) {
    const bool out = dt[d].area < rng.min || dt[d].area > rng.max;
    for (size_t t = 0; t < T; ++t) e.dt_ig[t][d] = e.dt_ig[t][d] || (e.dtm[t][d] == 0 && out);
    e.dt_scores.push_back(dt[d].score);
  }
  return e;
}

/// Full evaluation; returns a CocoEvalResult whose precision / recall / scores follow cocoeval.py literally.
inline CocoEvalResult evaluate(const Dataset& gt, const DetectionSet& dets, const CocoEvalOptions& p) {
  const int K = gt.num_classes();
  std::vector<int> img_order(gt.images.size());
  std::iota(img_order.begin(), img_order.end(), 0);
  std::sort(img_order.begin(), img_order.end(), [&](int a, int b) { return gt.images[a].id < gt.images[b].id; });
  std::map<int64_t, std::vector<Detection>> by_id;
  for (const ImageDetections& d : dets) by_id[d.image_id].insert(by_id[d.image_id].end(), d.dets.begin(), d.dets.end());
  const size_t T = p.iou_thresholds.size(), R = p.rec_thresholds.size(), A = p.area_ranges.size(),
               M = p.max_dets.size(), I = img_order.size();
  // evalImgs[k][a][i]
  std::vector<std::vector<std::vector<EvalImg>>> E(K, std::vector<std::vector<EvalImg>>(A));
  for (int k = 0; k < K; ++k)
    for (size_t a = 0; a < A; ++a)
      for (size_t ii = 0; ii < I; ++ii) {
        const ImageRecord& img = gt.images[img_order[ii]];
        std::vector<Ann> g, d;
        for (const Object& o : img.objects)
          if (o.label == k) {
            const double w = double(o.box.x2) - o.box.x1, h = double(o.box.y2) - o.box.y1;
            g.push_back({o.box.x1, o.box.y1, w, h, o.area >= 0 ? double(o.area) : w * h, 0, o.crowd});
          }
        for (const Detection& det : by_id[img.id])
          if (det.label == k) {
            const double w = double(det.box.x2) - det.box.x1, h = double(det.box.y2) - det.box.y1;
            d.push_back({det.box.x1, det.box.y1, w, h, w * h, det.score, false});
          }
        E[k][a].push_back(evaluate_img(g, d, p.area_ranges[a], p.max_dets.back(), p.iou_thresholds));
      }
  CocoEvalResult r;
  r.options = p;
  r.num_classes = K;
  r.category_ids = gt.category_ids;
  r.precision.assign(T * R * K * A * M, -1);
  r.scores.assign(T * R * K * A * M, -1);
  r.recall.assign(T * K * A * M, -1);
  for (int k = 0; k < K; ++k)
    for (size_t a = 0; a < A; ++a)
      for (size_t m = 0; m < M; ++m) {
        const int max_det = p.max_dets[m];
        std::vector<double> scores;
        std::vector<std::vector<int>> dtm(T), dtig(T);
        int npig = 0;
        bool any = false;
        for (const EvalImg& e : E[k][a]) {
          if (e.none) continue;
          any = true;
          const size_t n = std::min<size_t>(e.dt_scores.size(), max_det);
          scores.insert(scores.end(), e.dt_scores.begin(), e.dt_scores.begin() + n);
          for (size_t t = 0; t < T; ++t) {
            dtm[t].insert(dtm[t].end(), e.dtm[t].begin(), e.dtm[t].begin() + n);
            dtig[t].insert(dtig[t].end(), e.dt_ig[t].begin(), e.dt_ig[t].begin() + n);
          }
          for (int v : e.gt_ig) npig += v == 0;
        }
        if (!any || npig == 0) continue;
        const std::vector<int> inds = stable_argsort_desc(scores);
        const size_t nd = inds.size();
        for (size_t t = 0; t < T; ++t) {
          std::vector<double> tp(nd), fp(nd);
          double ctp = 0, cfp = 0;
          for (size_t i = 0; i < nd; ++i) {
            const bool matched = dtm[t][inds[i]] != 0, ignored = dtig[t][inds[i]] != 0;
            ctp += matched && !ignored;
            cfp += !matched && !ignored;
            tp[i] = ctp, fp[i] = cfp;
          }
          std::vector<double> rc(nd), pr(nd);
          for (size_t i = 0; i < nd; ++i) {
            rc[i] = tp[i] / npig;
            pr[i] = tp[i] / (fp[i] + tp[i] + 2.220446049250313e-16);
          }
          r.recall[((t * K + k) * A + a) * M + m] = nd ? rc[nd - 1] : 0;
          for (size_t i = nd - (nd ? 1 : 0); i > 0; --i)
            if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          std::vector<double> q(R, 0), ss(R, 0);
          for (size_t ri = 0; ri < R; ++ri) {
            size_t pi = 0;
            while (pi < nd && rc[pi] < p.rec_thresholds[ri]) ++pi;  // searchsorted, side='left'
            if (pi >= nd) break;
            q[ri] = pr[pi];
            ss[ri] = scores[inds[pi]];
          }
          for (size_t ri = 0; ri < R; ++ri) {
            r.precision[(((t * R + ri) * K + k) * A + a) * M + m] = q[ri];
            r.scores[(((t * R + ri) * K + k) * A + a) * M + m] = ss[ri];
          }
        }
      }
  r.stats = coco_stats(r);
  return r;
}

}  // namespace detlab::reference
