// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// precomputed: proposals from a cache file, with an optional stage that computes (and remembers) the rest.
#include "proposals/precomputed.h"

#include <mutex>
#include <optional>

#include "core/box_ops.h"
#include "core/error.h"
#include "proposals/proposal_file.h"

namespace detlab {

namespace {

class PrecomputedProposals final : public ProposalStage {
 public:
  PrecomputedProposals(const PrecomputedOptions& opts, std::unique_ptr<ProposalStage> fallback)
      : opts_(opts), fallback_(std::move(fallback)) {
    if (!opts_.path.empty()) cache_ = std::make_unique<ProposalCache>(opts_.path);
  }

  std::string_view name() const override { return "precomputed"; }
  int max_proposals() const override { return opts_.max_proposals; }

  Proposals propose(const ImageContext& ctx) override {
    DETLAB_REQUIRE(ctx.image && !ctx.image->bgr.empty(), "precomputed needs an image");
    const std::string& id = ctx.image->id;
    std::optional<Boxes> cached = cache_ ? cache_->boxes(id) : std::nullopt;  // one record read per image
    const Boxes* boxes = cached ? &*cached : nullptr;
    if (!boxes) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = boxes_.find(id);
      if (it != boxes_.end()) boxes = &it->second;  // std::map nodes are stable across inserts
    }
    Boxes computed;
    if (!boxes) {
      if (!fallback_)
        throw InputError(opts_.path, id, "image has no proposals in this file (add a `source:` stage to compute "
                                         "missing images, or regenerate the file)");
      Proposals p = fallback_->propose(ctx);
      for (const Proposal& q : p) computed.push_back(q.box);
      std::lock_guard<std::mutex> lock(mutex_);
      boxes = &boxes_.emplace(id, std::move(computed)).first->second;
    }
    const float w = static_cast<float>(ctx.image->bgr.cols), h = static_cast<float>(ctx.image->bgr.rows);
    Proposals out;
    const size_t n = std::min<size_t>(boxes->size(), opts_.max_proposals);
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const Box b = clip((*boxes)[i], w, h);
      if (b.width() <= 0 || b.height() <= 0) continue;
      out.push_back({b, 1.f - static_cast<float>(i) / static_cast<float>(n)});  // rank order as objectness
    }
    return out;
  }

 private:
  PrecomputedOptions opts_;
  std::unique_ptr<ProposalStage> fallback_;
  std::unique_ptr<ProposalCache> cache_;  // the file, read per image
  std::map<std::string, Boxes> boxes_;    // images the fallback stage computed
  std::mutex mutex_;
};

}  // namespace

PrecomputedOptions parse_precomputed(const Config& node) {
  PrecomputedOptions o;
  o.path = node.get<std::string>("path", o.path);
  o.max_proposals = node.get<int>("max_proposals", o.max_proposals);
  if (o.max_proposals < 1) throw InputError(node.file(), node.child_path("max_proposals"), "must be >= 1");
  return o;
}

std::unique_ptr<ProposalStage> make_precomputed(const PrecomputedOptions& opts,
                                                std::unique_ptr<ProposalStage> fallback) {
  return std::make_unique<PrecomputedProposals>(opts, std::move(fallback));
}

}  // namespace detlab
