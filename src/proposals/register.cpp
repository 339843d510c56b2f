// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// register_proposal_stages(): the classical proposal stages (names = file stems).
#include "core/error.h"
#include "pipeline/registries.h"
#include "proposals/precomputed.h"
#include "proposals/selective_search.h"
#include "proposals/sliding_window.h"

namespace detlab {

#if DETLAB_WITH_TORCH
void register_rpn_stage(Registry<ProposalStage>& r);  // proposals/rpn.cpp (detlab_torch_stages)
#endif

void register_proposal_stages(Registry<ProposalStage>& r) {
  r.add(
      "sliding_window",
      [](const Config& c, BuildContext&) { return make_sliding_window(parse_sliding_window(c)); },
      "every window of one or more shapes over an image pyramid (Dalal & Triggs 2005)");
  r.add(
      "selective_search",
      [](const Config& c, BuildContext&) { return make_selective_search(parse_selective_search(c)); },
      "hierarchical grouping proposals, single / fast / quality (Uijlings et al. 2013; OpenCV ximgproc)");
  r.add(
      "precomputed",
      [](const Config& c, BuildContext& b) {
        const PrecomputedOptions o = parse_precomputed(c);
        std::unique_ptr<ProposalStage> fallback;
        if (c.has("source")) {
          DETLAB_REQUIRE(b.registries != nullptr, "BuildContext::registries must be set to build nested stages");
          fallback = b.registries->proposals.build(c.child("source"), b);
        }
        if (o.path.empty() && !fallback)
          throw InputError(c.file(), c.child_path("path"), "precomputed needs a proposal file (path) or a source");
        return make_precomputed(o, std::move(fallback));
      },
      "proposals read from a cache file (detlab eval-proposals --save), optional source for missing images");
#if DETLAB_WITH_TORCH
  register_rpn_stage(r);
#endif
}

}  // namespace detlab
