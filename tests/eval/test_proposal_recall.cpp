// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Proposal recall and AR@N on hand-computed proposals.
#include <catch2/catch.hpp>

#include "eval/eval_test_util.h"
#include "eval/proposal_recall.h"

using namespace detlab;
using namespace detlab::testing;

TEST_CASE("proposal recall at 0.5 / 0.7 and AR@N", "[eval][proposals]") {
  Dataset gt = make_dataset(2, {1, 2});
  gt.images[0].objects = {object(0, {0, 0, 10, 10}), object(1, {100, 100, 110, 110}),
                          object(0, {300, 300, 400, 400}, /*crowd=*/true)};
  gt.images[1].objects = {object(1, {0, 0, 10, 10})};  // image without proposals: never recalled
  // Given out of order: ranking is by objectness.
  const std::vector<ImageProposals> props = {{1,
                                              {{{100, 100, 110, 110}, 0.1f},    // IoU 1 with G2, ranked 3rd
                                               {{0, 0, 10, 10}, 0.9f},          // IoU 1 with G1
                                               {{100, 100, 110, 116}, 0.8f}}}}; // IoU .625 with G2
  ProposalRecallOptions o;
  o.top_n = {1, 2, 3};
  const ProposalRecallResult r = evaluate_proposal_recall(gt, props, o);
  CHECK(r.num_gt == 3);  // the crowd region is not ground truth
  CHECK(r.recall_50 == std::vector<double>{1. / 3, 2. / 3, 2. / 3});
  CHECK(r.recall_70 == std::vector<double>{1. / 3, 1. / 3, 2. / 3});
  CHECK(r.average_recall[0] == Approx(1. / 3).epsilon(1e-15));
  CHECK(r.average_recall[1] == Approx((3 * 2. / 3 + 7 * 1. / 3) / 10).epsilon(1e-15));  // .625 passes .5-.6
  CHECK(r.average_recall[2] == Approx(2. / 3).epsilon(1e-15));
  CHECK(format_proposal_recall(r).find("R@0.5") != std::string::npos);

  ProposalRecallOptions defaults;
  CHECK(defaults.top_n == std::vector<int>{10, 20, 50, 100, 200, 500, 1000, 2000});
  CHECK(defaults.iou_thresholds.size() == 10);
  const ProposalRecallResult all = evaluate_proposal_recall(gt, props, defaults);
  CHECK(all.average_recall.back() == Approx(2. / 3).epsilon(1e-15));
}
