// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Optional stage capabilities that explain a staged detection cell by cell: a classifier that is linear in the
// region descriptor, and a feature stage whose descriptor is a sum of per-cell parts (HOG + SVM, R-CNN).
#pragma once

#include <vector>

#include <opencv2/core/mat.hpp>

#include "core/types.h"
#include "pipeline/stages.h"

namespace detlab {

/// One class's linear model: its score is a monotone function of weight . x + bias over the rows of `group`.
struct LinearScore {
  std::vector<float> weight;  // dim(group) values
  float bias = 0.f;
  int group = 0;              // the feature group (window shape) the class is scored on
};

/// A classifier stage whose class scores are monotone in a linear function of the descriptor (linear SVMs).
class LinearScorer {
 public:
  virtual ~LinearScorer() = default;
  /// requires: 0 <= c < the stage's num_classes(), after fit() or load().
  virtual LinearScore linear_score(int c) const = 0;
};

/// A region's evidence for one linear score, cell by cell over the image.
struct RegionCells {
  cv::Mat contributions;  // rows x cols CV_32F: weight . descriptor restricted to what each cell produced
  Box grid;               // the image rectangle the cells tile (row-major, equal cells), context included
};

/// What this represents: a feature stage whose region descriptor is made of per-cell parts -- HOG (the window's
/// cells and its context cells), a CNN crop's spatially averaged map (the map's cells) -- so that a linear
/// score over it splits exactly into cell contributions. For a linear classifier over a globally averaged map
/// these are CAM (Zhou et al. 2016), which is Grad-CAM for such a head (Selvaraju et al. 2017, section 3.1);
/// for HOG they are the per-cell terms of the SVM's dot product, the picture of Dalal & Triggs' Fig. 6.
/// thread safety: as extract().
class CellDecomposable {
 public:
  virtual ~CellDecomposable() = default;
  /*  requires: weight.size() == the descriptor length of `group`.
      ensures: the contributions sum to weight . (the descriptor extract_as(ctx, {proposal}, {group}) gives), to
               float rounding.  */
  virtual RegionCells decompose(const ImageContext& ctx, const Proposal& proposal, int group,
                                const std::vector<float>& weight) = 0;
};

}  // namespace detlab
