// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Window groups: the free functions that let the staged detector wire the optional capability.
#include "pipeline/window_groups.h"

#include "core/error.h"

namespace detlab {

std::vector<WindowShape> window_shapes_of(const ProposalStage& proposals) {
  const auto* w = dynamic_cast<const WindowProposals*>(&proposals);
  return w ? w->window_shapes() : std::vector<WindowShape>{};
}

int window_group_of_class(const ProposalStage& proposals, int c) {
  const auto* w = dynamic_cast<const WindowProposals*>(&proposals);
  return w && !w->window_shapes().empty() ? w->window_of_class(c) : 0;
}

void set_feature_windows(FeatureStage& features, const std::vector<WindowShape>& shapes) {
  if (auto* w = dynamic_cast<WindowFeatures*>(&features)) w->set_window_shapes(shapes);
}

RegionFeatures extract_in_groups(FeatureStage& features, const ImageContext& ctx, const Proposals& proposals,
                                 const std::vector<int>& groups) {
  DETLAB_REQUIRE(groups.size() == proposals.size(), "one group per region", groups.size(), proposals.size());
  if (auto* w = dynamic_cast<WindowFeatures*>(&features)) return w->extract_as(ctx, proposals, groups);
  for (int g : groups) DETLAB_REQUIRE(g == 0, "a stage without window shapes has one feature group", g);
  return features.extract(ctx, proposals);
}

}  // namespace detlab
