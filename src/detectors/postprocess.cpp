// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Detection post-processing: decode, threshold, clip, per-class NMS / soft-NMS, top-k.
#include "detectors/postprocess.h"

#include <cmath>
#include <map>

#include "core/box_ops.h"
#include "core/error.h"
#include "pipeline/host_box_coder.h"

namespace detlab {

PostprocessOptions parse_postprocess(const Config& node) {
  PostprocessOptions o;
  o.nms_iou = node.get<float>("nms_iou", o.nms_iou);
  o.score_thresh = node.get<float>("score_thresh", o.score_thresh);
  o.max_per_image = node.get<int>("max_per_image", o.max_per_image);
  o.min_size = node.get<float>("min_size", o.min_size);
  o.pre_nms_top_k = node.get<int>("pre_nms_top_k", o.pre_nms_top_k);
  if (o.pre_nms_top_k < 0) throw InputError(node.file(), node.child_path("pre_nms_top_k"), "must be >= 0");
  if (node.has("box_coder_weights")) {
    const auto w = node.get<std::vector<float>>("box_coder_weights");
    if (w.size() != 4 || w[0] <= 0 || w[1] <= 0 || w[2] <= 0 || w[3] <= 0)
      throw InputError(node.file(), node.child_path("box_coder_weights"), "expected 4 positive numbers");
    for (int k = 0; k < 4; ++k) o.box_coder_weights[k] = w[k];
  }
  if (node.has("soft_nms")) {
    const Config s = node.child("soft_nms");
    if (s.is_map()) {
      o.soft_nms = true;
      const std::string method = s.get<std::string>("method", "gaussian");
      if (method == "gaussian")
        o.soft.method = SoftNmsOptions::Method::kGaussian;
      else if (method == "linear")
        o.soft.method = SoftNmsOptions::Method::kLinear;
      else
        throw InputError(s.file(), s.child_path("method"), "expected gaussian or linear, got '" + method + "'");
      o.soft.sigma = s.get<float>("sigma", o.soft.sigma);
      o.soft.iou_threshold = s.get<float>("iou_threshold", o.soft.iou_threshold);
      o.soft.score_threshold = s.get<float>("score_threshold", o.soft.score_threshold);
    } else {
      o.soft_nms = s.as<bool>();
    }
  }
  if (!(o.nms_iou >= 0.f && o.nms_iou <= 1.f))
    throw InputError(node.file(), node.child_path("nms_iou"), "must be in [0, 1]");
  if (o.max_per_image < 0 && o.max_per_image != -1)
    throw InputError(node.file(), node.child_path("max_per_image"), "must be >= 0 (or -1 for no limit)");
  return o;
}

Detections postprocess(const Detections& candidates, int width, int height, const PostprocessOptions& opts) {
  DETLAB_REQUIRE(width > 0 && height > 0, "image size must be positive", width, height);
  Detections kept;
  kept.reserve(candidates.size());
  for (const Detection& d : candidates) {
    if (!(d.score > opts.score_thresh) || !is_finite(d.box)) continue;
    Detection c = d;
    c.box = clip(d.box, static_cast<float>(width), static_cast<float>(height));
    if (c.box.width() < opts.min_size || c.box.height() < opts.min_size) continue;
    kept.push_back(c);
  }
  if (opts.pre_nms_top_k > 0) {  // per class, keeping the candidates' order (it breaks score ties)
    std::map<int, std::vector<int>> by_class;
    for (size_t i = 0; i < kept.size(); ++i) by_class[kept[i].label].push_back(static_cast<int>(i));
    std::vector<char> keep(kept.size(), 0);
    for (const auto& [label, idx] : by_class) {
      std::vector<float> scores;
      for (int i : idx) scores.push_back(kept[i].score);
      for (int j : top_k(scores, opts.pre_nms_top_k)) keep[idx[j]] = 1;
    }
    Detections filtered;
    for (size_t i = 0; i < kept.size(); ++i)
      if (keep[i]) filtered.push_back(kept[i]);
    kept.swap(filtered);
  }
  Detections out;
  if (opts.soft_nms) {
    out = soft_nms(kept, opts.soft, /*class_aware=*/true);
  } else {
    for (int i : batched_nms(kept, opts.nms_iou)) out.push_back(kept[i]);
  }
  return top_k(out, opts.max_per_image);
}

Detections postprocess(const Proposals& proposals, const RegionScores& scores, int width, int height,
                       const PostprocessOptions& opts) {
  const cv::Mat& s = scores.scores;
  DETLAB_REQUIRE(s.rows == static_cast<int>(proposals.size()), "one score row per proposal", s.rows,
                 proposals.size());
  if (proposals.empty()) return {};
  DETLAB_REQUIRE(s.type() == CV_32F && s.cols >= 2, "scores must be N x (K+1) CV_32F", s.cols);
  const int num_classes = s.cols - 1;
  const cv::Mat& d = scores.deltas;
  DETLAB_REQUIRE(d.empty() || (d.type() == CV_32F && d.rows == s.rows && d.cols == 4 * num_classes),
                 "deltas must be empty or N x 4K CV_32F", d.rows, d.cols, num_classes);
  Detections candidates;
  for (int i = 0; i < s.rows; ++i) {
    const float* row = s.ptr<float>(i);
    for (int c = 0; c < num_classes; ++c)
      if (row[c + 1] > opts.score_thresh)
        candidates.push_back({staged_candidate_box(proposals, scores, i, c, opts), c, row[c + 1]});
  }
  return postprocess(candidates, width, height, opts);
}

Box staged_candidate_box(const Proposals& proposals, const RegionScores& scores, int i, int c,
                         const PostprocessOptions& opts) {
  const Box& p = proposals[static_cast<size_t>(i)].box;
  if (scores.deltas.empty() || !(p.width() > 0 && p.height() > 0)) return p;
  HostBoxCoder coder;
  coder.weights = opts.box_coder_weights;
  return coder.decode(p, scores.deltas.ptr<float>(i) + 4 * c);
}

}  // namespace detlab
