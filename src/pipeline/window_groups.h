// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Window shapes as feature groups: the optional capability that ties a sliding-window proposal stage to a
// feature stage whose descriptor length depends on the window (HOG). Other stages know nothing of it.
#pragma once

#include <vector>

#include "pipeline/stages.h"

namespace detlab {

/// A scanning window, in pixels at pyramid scale 1 (sliding-window proposals, HOG descriptors).
struct WindowShape {
  int width = 0, height = 0;
  bool operator==(const WindowShape& o) const { return width == o.width && height == o.height; }
};

/// What this represents: a proposal stage that scans fixed window shapes (sliding windows, Dalal & Triggs), one
/// per class or shared; each class is detected in its window, and the staged detector describes its regions in
/// that window's feature group.
class WindowProposals {
 public:
  virtual ~WindowProposals() = default;
  /// The shapes scanned (may change in fit(): `windows: auto` learns one per class).
  virtual std::vector<WindowShape> window_shapes() const = 0;
  /// Index into window_shapes() of the window that detects class c; 0 when there is one window.
  virtual int window_of_class(int c) const = 0;
};

/// What this represents: a feature stage whose descriptor depends on the window shape (HOG: its cells), so that
/// regions are described in feature groups (RegionFeatures::groups), one per window shape.
/// thread safety: extract_as() as extract(), after set_window_shapes().
class WindowFeatures {
 public:
  virtual ~WindowFeatures() = default;
  /// Describes regions in these window shapes (feature group k = shapes[k]); empty = the stage's own window.
  virtual void set_window_shapes(const std::vector<WindowShape>& shapes) = 0;
  /// As extract(), but row i is described in feature group groups[i] (training positives: ground-truth boxes
  /// warped to their class's window). requires: groups.size() == proposals.size(), each a valid group.
  virtual RegionFeatures extract_as(const ImageContext& ctx, const Proposals& proposals,
                                    const std::vector<int>& groups) = 0;
};

/// The proposal stage's window shapes; empty for stages that propose arbitrary boxes.
std::vector<WindowShape> window_shapes_of(const ProposalStage& proposals);
/// The feature group class c is scored in: its window's index, 0 for stages without windows.
int window_group_of_class(const ProposalStage& proposals, int c);
/// Passes the shapes to a WindowFeatures stage; other stages have one group and ignore them.
void set_feature_windows(FeatureStage& features, const std::vector<WindowShape>& shapes);
/// extract_as() of a WindowFeatures stage; extract() of any other (one group: every entry of groups is 0).
RegionFeatures extract_in_groups(FeatureStage& features, const ImageContext& ctx, const Proposals& proposals,
                                 const std::vector<int>& groups);

}  // namespace detlab
