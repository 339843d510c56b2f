// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// precomputed: proposals read from a cache file (computed once, reused every epoch and every run).
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "pipeline/stages.h"

namespace detlab {

struct PrecomputedOptions {
  /// Proposal file (proposals/proposal_file.h), relative to the current directory; empty = none (then every
  /// image goes to the fallback stage). `detlab eval-proposals CONFIG --save FILE` writes one.
  std::string path;
  int max_proposals = 2000;  // the first (best-ranked) boxes of each image; R-CNN's ~2000
};

/// Keys: path, max_proposals, source (a proposal-stage node computing images missing from the file).
PrecomputedOptions parse_precomputed(const Config& node);

/// Reads the file now (InputError naming it when missing or malformed). Images absent from the file go to
/// `fallback` and are remembered for the rest of the run; without a fallback they are an InputError naming
/// the file and the image.
/// thread safety: propose() may run concurrently.
std::unique_ptr<ProposalStage> make_precomputed(const PrecomputedOptions& opts,
                                                std::unique_ptr<ProposalStage> fallback = nullptr);

}  // namespace detlab
