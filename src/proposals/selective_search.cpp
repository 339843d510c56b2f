// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// selective_search: the proposal stage over hierarchical_grouping.h (ximgproc's segmentations and strategies).
#include "proposals/selective_search.h"

#include <algorithm>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "core/box_ops.h"
#include "config/checked.h"
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
  using Mode = SelectiveSearchOptions::Mode;
  o.mode = get_named(node, "mode", o.mode,
                     {{"single", Mode::kSingle}, {"fast", Mode::kFast}, {"quality", Mode::kQuality}});
  o.base_k = static_cast<int>(get_at_least(node, "base_k", o.base_k, 1));
  o.inc_k = static_cast<int>(get_at_least(node, "inc_k", o.inc_k, 1));
  o.sigma = static_cast<float>(get_non_negative(node, "sigma", o.sigma));
  o.max_proposals = static_cast<int>(get_at_least(node, "max_proposals", o.max_proposals, 1));
  o.resize_to = static_cast<int>(get_at_least(node, "resize_to", o.resize_to, 0));
  o.min_size = static_cast<int>(get_at_least(node, "min_size", o.min_size, 0));
  o.seed = static_cast<uint64_t>(node.get<int64_t>("seed", static_cast<int64_t>(o.seed)));
  return o;
}

std::unique_ptr<ProposalStage> make_selective_search(const SelectiveSearchOptions& opts) {
  return std::make_unique<SelectiveSearchProposals>(opts);
}

}  // namespace detlab
