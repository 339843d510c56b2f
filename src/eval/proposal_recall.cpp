// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Proposal recall and average recall over IoU thresholds for class-agnostic proposals.
#include "eval/proposal_recall.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "core/box_ops.h"
#include "core/error.h"
#include "eval/numeric.h"

namespace detlab {

namespace {

double iou_d(const Box& a, const Box& b) {
  const double w = std::min<double>(a.x2, b.x2) - std::max<double>(a.x1, b.x1);
  if (w <= 0) return 0;
  const double h = std::min<double>(a.y2, b.y2) - std::max<double>(a.y1, b.y1);
  if (h <= 0) return 0;
  const double i = w * h;
  const double aa = (static_cast<double>(a.x2) - a.x1) * (static_cast<double>(a.y2) - a.y1);
  const double ba = (static_cast<double>(b.x2) - b.x1) * (static_cast<double>(b.y2) - b.y1);
  return i / (aa + ba - i);
}

}  // namespace

ProposalRecallResult evaluate_proposal_recall(const Dataset& gt, const std::vector<ImageProposals>& proposals,
                                              const ProposalRecallOptions& opts) {
  ProposalRecallResult r;
  r.top_n = opts.top_n;
  for (int n : r.top_n) DETLAB_REQUIRE(n > 0, "proposal budgets must be positive", n);
  r.iou_thresholds = opts.iou_thresholds;
  DETLAB_REQUIRE(!r.iou_thresholds.empty(), "no IoU thresholds");
  const size_t N = r.top_n.size(), T = r.iou_thresholds.size();

  std::unordered_map<int64_t, size_t> index;
  for (size_t i = 0; i < gt.images.size(); ++i) index.emplace(gt.images[i].id, i);
  std::vector<std::vector<const Proposal*>> per_image(gt.images.size());
  for (const ImageProposals& ip : proposals) {
    auto it = index.find(ip.image_id);
    DETLAB_REQUIRE(it != index.end(), "proposals for an image id that is not in the ground truth", ip.image_id);
    for (const Proposal& p : ip.proposals) {
      DETLAB_REQUIRE(is_finite(p.box), ip.image_id, p.box.x1, p.box.y1, p.box.x2, p.box.y2);
      per_image[it->second].push_back(&p);
    }
  }

  // best[n][g]: best IoU of gt g with the top-N proposals, for every budget, over all images.
  std::vector<std::vector<double>> best(N);
  const int max_n = N ? *std::max_element(r.top_n.begin(), r.top_n.end()) : 0;
  for (size_t i = 0; i < gt.images.size(); ++i) {
    std::vector<const Proposal*>& props = per_image[i];
    std::stable_sort(props.begin(), props.end(),
                     [](const Proposal* a, const Proposal* b) { return a->objectness > b->objectness; });
    const size_t P = std::min(props.size(), static_cast<size_t>(max_n));
    for (const Object& o : gt.images[i].objects) {
      if (o.crowd || (o.difficult && !opts.include_difficult)) continue;
      ++r.num_gt;
      // Running maximum over the ranked proposals, read off at each budget.
      std::vector<double> running(P);
      double m = 0;
      for (size_t p = 0; p < P; ++p) running[p] = m = std::max(m, iou_d(props[p]->box, o.box));
      for (size_t n = 0; n < N; ++n) {
        const size_t k = std::min(P, static_cast<size_t>(r.top_n[n]));
        best[n].push_back(k ? running[k - 1] : 0.);
      }
    }
  }
  r.recall.assign(N, std::vector<double>(T, std::numeric_limits<double>::quiet_NaN()));
  r.recall_50.assign(N, std::numeric_limits<double>::quiet_NaN());
  r.recall_70 = r.recall_50;
  r.average_recall = r.recall_50;
  if (r.num_gt == 0) return r;
  const double total = static_cast<double>(r.num_gt);
  auto recall_at = [&](size_t n, double t) {
    return static_cast<double>(std::count_if(best[n].begin(), best[n].end(), [&](double v) { return v >= t; })) / total;
  };
  for (size_t n = 0; n < N; ++n) {
    for (size_t t = 0; t < T; ++t) r.recall[n][t] = recall_at(n, r.iou_thresholds[t]);
    r.recall_50[n] = recall_at(n, 0.5);
    r.recall_70[n] = recall_at(n, 0.7);
    r.average_recall[n] = numpy_mean(r.recall[n]);
  }
  return r;
}

std::string format_proposal_recall(const ProposalRecallResult& r) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "Proposal recall (%lld gt)\n  %6s  %7s  %7s  %7s\n", static_cast<long long>(r.num_gt),
                "N", "R@0.5", "R@0.7", "AR");
  std::string out = buf;
  for (size_t n = 0; n < r.top_n.size(); ++n) {
    std::snprintf(buf, sizeof buf, "  %6d  %7.4f  %7.4f  %7.4f\n", r.top_n[n], r.recall_50[n], r.recall_70[n],
                  r.average_recall[n]);
    out += buf;
  }
  return out;
}

}  // namespace detlab
