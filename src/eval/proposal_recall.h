// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Proposal-stage evaluation: recall at IoU 0.5 / 0.7 and average recall AR@N (Hosang et al. 2016).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/types.h"
#include "data/dataset.h"
#include "eval/numeric.h"

namespace detlab {

/// Class-agnostic proposals of one image (any order; ranked by objectness here).
struct ImageProposals {
  int64_t image_id = 0;
  Proposals proposals;
};

struct ProposalRecallOptions {
  /// Proposal budgets N: the top N proposals of each image by objectness (stable on ties).
  std::vector<int> top_n = {10, 20, 50, 100, 200, 500, 1000, 2000};
  /// IoU thresholds averaged by AR: 0.5:0.05:0.95 (numpy.linspace, as the COCO thresholds).
  std::vector<double> iou_thresholds = numpy_linspace(0.5, 0.95, 10);
  bool include_difficult = true;  ///< difficult objects count as ground truth (crowd regions never do)
};

struct ProposalRecallResult {
  std::vector<int> top_n;
  std::vector<double> iou_thresholds;
  int64_t num_gt = 0;
  /// [N][T]: fraction of gt whose best IoU with the image's top-N proposals is >= threshold T.
  std::vector<std::vector<double>> recall;
  std::vector<double> recall_50;       ///< per N, at IoU 0.5
  std::vector<double> recall_70;       ///< per N, at IoU 0.7
  std::vector<double> average_recall;  ///< per N: mean of recall[N] over the thresholds (AR@N)
};

/// Recall of proposals: a gt object is recalled at threshold t by the top N proposals of its image when one of
/// them has IoU >= t with it (each gt takes its best proposal; proposals may cover several gt, as in Hosang et
/// al.). IoU in double, continuous coordinates (no "+1"). Images without an entry have no proposals.
/// requires: every image id in gt; boxes finite. NaN recalls when gt has no object.
ProposalRecallResult evaluate_proposal_recall(const Dataset& gt, const std::vector<ImageProposals>& proposals,
                                              const ProposalRecallOptions& opts = {});

/// A table with one row per N: "N  R@0.5  R@0.7  AR".
std::string format_proposal_recall(const ProposalRecallResult& r);

}  // namespace detlab
