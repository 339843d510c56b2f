// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// selective_search: the proposal stage over hierarchical_grouping.h (ximgproc's segmentations and strategies).
#include "proposals/selective_search.h"

#include <algorithm>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "core/box_ops.h"
#include "core/error.h"
#include "proposals/hierarchical_grouping.h"

namespace detlab {

namespace {

class SelectiveSearchProposals final : public ProposalStage {
 public:
  explicit SelectiveSearchProposals(const SelectiveSearchOptions& opts) : opts_(opts) {}

  std::string_view name() const override { return "selective_search"; }
  int max_proposals() const override { return opts_.max_proposals; }

  Proposals propose(const ImageContext& ctx) override {
    DETLAB_REQUIRE(ctx.image && !ctx.image->bgr.empty(), "selective_search needs an image");
    const cv::Mat& bgr = ctx.image->bgr;
    cv::Mat input = bgr;
    float f = 1.f;
    if (opts_.resize_to > 0 && std::max(bgr.cols, bgr.rows) > opts_.resize_to) {
      f = static_cast<float>(opts_.resize_to) / std::max(bgr.cols, bgr.rows);
      cv::resize(bgr, input, cv::Size(), f, f, cv::INTER_AREA);
    }
    GroupingStrategy strategy;
    switch (opts_.mode) {
      case SelectiveSearchOptions::Mode::kSingle: strategy.mode = GroupingStrategy::Mode::kSingle; break;
      case SelectiveSearchOptions::Mode::kFast: strategy.mode = GroupingStrategy::Mode::kFast; break;
      case SelectiveSearchOptions::Mode::kQuality: strategy.mode = GroupingStrategy::Mode::kQuality; break;
    }
    strategy.base_k = opts_.base_k;
    strategy.inc_k = opts_.inc_k;
    strategy.sigma = opts_.sigma;
    // The ranking (which boxes survive max_proposals, and their order) draws random numbers (Uijlings et al.
    // 2013, section 3.4) from a generator of this call: the same boxes for any number of threads.
    const std::vector<cv::Rect> rects = selective_search_boxes(input, strategy, static_cast<uint32_t>(opts_.seed));
    Proposals out;
    out.reserve(std::min<size_t>(rects.size(), opts_.max_proposals));
    const float inv = 1.f / f, w = static_cast<float>(bgr.cols), h = static_cast<float>(bgr.rows);
    for (const cv::Rect& r : rects) {
      if (static_cast<int>(out.size()) >= opts_.max_proposals) break;
      const Box b = clip({r.x * inv, r.y * inv, (r.x + r.width) * inv, (r.y + r.height) * inv}, w, h);
      if (std::min(b.width(), b.height()) < std::max(opts_.min_size, 1)) continue;
      out.push_back({b, 0.f});
    }
    // Objectness = 1 - rank / N keeps ximgproc's order and makes "sorted by objectness" explicit.
    const float n = static_cast<float>(std::max<size_t>(out.size(), 1));
    for (size_t i = 0; i < out.size(); ++i) out[i].objectness = 1.f - static_cast<float>(i) / n;
    return out;
  }

 private:
  SelectiveSearchOptions opts_;
};

}  // namespace

SelectiveSearchOptions parse_selective_search(const Config& node) {
  SelectiveSearchOptions o;
  if (node.has("mode")) {
    const std::string m = node.get<std::string>("mode");
    if (m == "single")
      o.mode = SelectiveSearchOptions::Mode::kSingle;
    else if (m == "fast")
      o.mode = SelectiveSearchOptions::Mode::kFast;
    else if (m == "quality")
      o.mode = SelectiveSearchOptions::Mode::kQuality;
    else
      throw InputError(node.file(), node.child_path("mode"), "expected single, fast or quality, got '" + m + "'");
  }
  o.base_k = node.get<int>("base_k", o.base_k);
  o.inc_k = node.get<int>("inc_k", o.inc_k);
  o.sigma = node.get<float>("sigma", o.sigma);
  o.max_proposals = node.get<int>("max_proposals", o.max_proposals);
  o.resize_to = node.get<int>("resize_to", o.resize_to);
  o.min_size = node.get<int>("min_size", o.min_size);
  o.seed = static_cast<uint64_t>(node.get<int64_t>("seed", static_cast<int64_t>(o.seed)));
  auto fail = [&](const char* key, const char* what) { throw InputError(node.file(), node.child_path(key), what); };
  if (o.base_k < 1) fail("base_k", "must be >= 1");
  if (o.inc_k < 1) fail("inc_k", "must be >= 1");
  if (!(o.sigma >= 0.f)) fail("sigma", "must be >= 0");
  if (o.max_proposals < 1) fail("max_proposals", "must be >= 1");
  if (o.resize_to < 0) fail("resize_to", "must be >= 0");
  if (o.min_size < 0) fail("min_size", "must be >= 0");
  return o;
}

std::unique_ptr<ProposalStage> make_selective_search(const SelectiveSearchOptions& opts) {
  return std::make_unique<SelectiveSearchProposals>(opts);
}

}  // namespace detlab
