// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// NMS family: fast paths over structure-of-arrays coordinates (see tests/core for the naive references).
#include "core/nms.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace detlab {

namespace {

// Coordinates gathered in score order, so the inner suppression loop streams contiguous floats.
struct SortedBoxes {
  std::vector<float> x1, y1, x2, y2, area;
  explicit SortedBoxes(const Boxes& boxes, const std::vector<int>& order) {
    const size_t n = order.size();
    x1.resize(n), y1.resize(n), x2.resize(n), y2.resize(n), area.resize(n);
    for (size_t k = 0; k < n; ++k) {
      const Box& b = boxes[order[k]];
      x1[k] = b.x1, y1[k] = b.y1, x2[k] = b.x2, y2[k] = b.y2;
      area[k] = std::max(0.f, b.x2 - b.x1) * std::max(0.f, b.y2 - b.y1);
    }
  }
  float iou(size_t i, size_t j) const {
    const float w = std::min(x2[i], x2[j]) - std::max(x1[i], x1[j]);
    const float h = std::min(y2[i], y2[j]) - std::max(y1[i], y1[j]);
    if (w <= 0.f || h <= 0.f) return 0.f;
    const float inter = w * h;
    const float uni = area[i] + area[j] - inter;
    return uni > 0.f ? inter / uni : 0.f;
  }
};

std::vector<int> nms_sorted(const Boxes& boxes, const std::vector<int>& order, float iou_threshold) {
  const SortedBoxes s(boxes, order);
  const size_t n = order.size();
  std::vector<char> suppressed(n, 0);
  std::vector<int> keep;
  for (size_t i = 0; i < n; ++i) {
    if (suppressed[i]) continue;
    keep.push_back(order[i]);
    for (size_t j = i + 1; j < n; ++j) {
      if (!suppressed[j] && s.iou(i, j) > iou_threshold) suppressed[j] = 1;
    }
  }
  return keep;
}

bool before(const std::vector<float>& scores, int a, int b) {
  return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
}

}  // namespace

std::vector<int> sort_by_score(const std::vector<float>& scores) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  return order;
}

std::vector<int> nms(const Boxes& boxes, const std::vector<float>& scores, float iou_threshold) {
  DETLAB_REQUIRE(boxes.size() == scores.size(), boxes.size(), scores.size());
  return nms_sorted(boxes, sort_by_score(scores), iou_threshold);
}

std::vector<int> batched_nms(const Boxes& boxes, const std::vector<float>& scores, const std::vector<int>& labels,
                             float iou_threshold) {
  DETLAB_REQUIRE(boxes.size() == scores.size() && boxes.size() == labels.size(), boxes.size(), scores.size(),
                 labels.size());
  // Group the score order by label (stable, so each group stays in score order), run NMS per group, merge.
  std::vector<int> order = sort_by_score(scores);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return labels[a] < labels[b]; });
  std::vector<int> keep;
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin;
    while (end < order.size() && labels[order[end]] == labels[order[begin]]) ++end;
    const std::vector<int> group(order.begin() + begin, order.begin() + end);
    const std::vector<int> kept = nms_sorted(boxes, group, iou_threshold);
    keep.insert(keep.end(), kept.begin(), kept.end());
    begin = end;
  }
  std::sort(keep.begin(), keep.end(), [&](int a, int b) { return before(scores, a, b); });
  return keep;
}

namespace {
void split(const Detections& dets, Boxes& boxes, std::vector<float>& scores, std::vector<int>& labels) {
  boxes.resize(dets.size()), scores.resize(dets.size()), labels.resize(dets.size());
  for (size_t i = 0; i < dets.size(); ++i) boxes[i] = dets[i].box, scores[i] = dets[i].score, labels[i] = dets[i].label;
}
}  // namespace

std::vector<int> nms(const Detections& dets, float iou_threshold) {
  Boxes boxes;
  std::vector<float> scores;
  std::vector<int> labels;
  split(dets, boxes, scores, labels);
  return nms(boxes, scores, iou_threshold);
}

std::vector<int> batched_nms(const Detections& dets, float iou_threshold) {
  Boxes boxes;
  std::vector<float> scores;
  std::vector<int> labels;
  split(dets, boxes, scores, labels);
  return batched_nms(boxes, scores, labels, iou_threshold);
}

std::vector<ScoredIndex> soft_nms(const Boxes& boxes, const std::vector<float>& scores, const SoftNmsOptions& opts) {
  DETLAB_REQUIRE(boxes.size() == scores.size(), boxes.size(), scores.size());
  DETLAB_REQUIRE(opts.method != SoftNmsOptions::Method::kGaussian || opts.sigma > 0.f, opts.sigma);
  // Candidates live in score order; `alive` lists positions still in play, compacted as boxes drop out.
  const std::vector<int> order = sort_by_score(scores);
  const SortedBoxes s(boxes, order);
  std::vector<float> score(order.size());
  for (size_t k = 0; k < order.size(); ++k) score[k] = scores[order[k]];
  std::vector<int> alive;
  alive.reserve(order.size());
  for (size_t k = 0; k < order.size(); ++k)
    if (score[k] >= opts.score_threshold) alive.push_back(static_cast<int>(k));

  std::vector<ScoredIndex> out;
  while (!alive.empty()) {
    // Highest current score; ties go to the lower original index (positions are in (score, index) order,
    // but decayed scores can tie across positions, so compare indices explicitly).
    size_t best = 0;
    for (size_t a = 1; a < alive.size(); ++a) {
      const int p = alive[a], q = alive[best];
      if (score[p] > score[q] || (score[p] == score[q] && order[p] < order[q])) best = a;
    }
    const int sel = alive[best];
    out.push_back({order[sel], score[sel]});
    alive.erase(alive.begin() + static_cast<long>(best));
    size_t w = 0;
    for (size_t a = 0; a < alive.size(); ++a) {
      const int p = alive[a];
      const float ov = s.iou(sel, p);
      if (opts.method == SoftNmsOptions::Method::kLinear) {
        if (ov > opts.iou_threshold) score[p] *= 1.f - ov;
      } else if (ov > 0.f) {
        score[p] *= std::exp(-(ov * ov) / opts.sigma);
      }
      if (score[p] >= opts.score_threshold) alive[w++] = p;
    }
    alive.resize(w);
  }
  return out;
}

Detections soft_nms(const Detections& dets, const SoftNmsOptions& opts, bool class_aware) {
  Boxes boxes;
  std::vector<float> scores;
  std::vector<int> labels;
  split(dets, boxes, scores, labels);
  Detections out;
  auto run = [&](const std::vector<int>& members) {
    Boxes b;
    std::vector<float> sc;
    for (int m : members) b.push_back(boxes[m]), sc.push_back(scores[m]);
    for (const ScoredIndex& si : soft_nms(b, sc, opts)) {
      Detection d = dets[members[si.index]];
      d.score = si.score;
      out.push_back(d);
    }
  };
  if (!class_aware) {
    std::vector<int> all(dets.size());
    std::iota(all.begin(), all.end(), 0);
    run(all);
  } else {
    std::vector<int> order(dets.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return labels[a] < labels[b]; });
    for (size_t begin = 0; begin < order.size();) {
      size_t end = begin;
      while (end < order.size() && labels[order[end]] == labels[order[begin]]) ++end;
      run(std::vector<int>(order.begin() + begin, order.begin() + end));
      begin = end;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return out;
}

std::vector<int> top_k(const std::vector<float>& scores, int k) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t n = (k < 0 || static_cast<size_t>(k) > order.size()) ? order.size() : static_cast<size_t>(k);
  std::partial_sort(order.begin(), order.begin() + n, order.end(),
                    [&](int a, int b) { return before(scores, a, b); });
  order.resize(n);
  return order;
}

Detections top_k(const Detections& dets, int k) {
  std::vector<float> scores(dets.size());
  for (size_t i = 0; i < dets.size(); ++i) scores[i] = dets[i].score;
  Detections out;
  for (int i : top_k(scores, k)) out.push_back(dets[i]);
  return out;
}

}  // namespace detlab
