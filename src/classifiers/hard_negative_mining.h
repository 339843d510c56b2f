// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Sample collection for region classifiers: positives, random negatives, hard-negative mining passes.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "classifiers/box_regression.h"
#include "config/config.h"
#include "pipeline/training.h"

namespace detlab {

/// Hard-negative mining as in Dalal & Triggs 2005 (section 3: retrain on the false positives of the first
/// detector) and R-CNN (Girshick et al. 2014, section 2.3: negatives are proposals with IoU < 0.3 with every
/// ground truth of the class, mined from the current model's false positives).
struct MiningOptions {
  int rounds = 2;                       // retraining rounds after the first training; D&T used one
  float negative_iou = 0.3f;            // R-CNN's negative threshold (chosen by grid search in the paper)
  int initial_negatives_per_image = 20; // random negatives per image and class before the first training
  int hard_negatives_per_image = 20;    // at most this many new false positives per image, class and round
  float hard_margin = -1.f;             // a negative is hard when it scores above -1 (inside the margin)
  int max_negatives = 20000;            // per-class pool; the easiest negatives are dropped above it
  int max_positives = 0;                // per class, a random subset above it (0 = all)
  int max_images = 0;                   // images per mining pass, a random subset per round (0 = all)
  /// Jittered positives: besides the ground truth (warped into the class's window), proposals overlapping an
  /// object by at least this much, described exactly as at detection time (0 = ground truth only, as in
  /// R-CNN's SVMs).
  float positive_iou = 0.f;
  int positives_per_object = 2;         // jittered positives per object (random among those above positive_iou)
};

/// Keys: rounds, negative_iou, initial_negatives_per_image, hard_negatives_per_image, hard_margin,
/// max_negatives, max_positives, max_images, positive_iou, positives_per_object.
MiningOptions parse_mining(const Config& node);

/// The training regions of one class: rows of its feature group, cut to that group's length.
struct ClassSamples {
  int group = 0;
  int dim = 0;
  cv::Mat positives;                          // P x dim CV_32F
  cv::Mat negatives;                          // N x dim CV_32F
  std::set<std::pair<int, int>> negative_keys;  // (image, proposal index): a region is never added twice
  cv::Mat reg_features;                       // R x dim CV_32F (box regression)
  cv::Mat reg_targets;                        // R x 4 CV_32F  (R-CNN deltas, weights 1)
};

/// Scores of feature rows for class c under the current model (higher = more like the class): rows is
/// N x dim CV_32F (the class's feature length), the result N x 1 CV_32F. One call per image and class, so
/// that a linear model scores all rows with one matrix product.
using ClassScorer = std::function<cv::Mat(int cls, const cv::Mat& rows)>;

/// Positives (ground-truth boxes, not difficult nor crowd, warped into their class's feature group; plus
/// jittered proposals when positive_iou > 0) and random negatives of every class. ensures: result[c].group == source.group_of_class(c).
std::vector<ClassSamples> collect_initial_samples(RegionSource& source, const MiningOptions& opts, uint64_t seed);

/// One pass over the training images (or a random max_images subset): each image's proposals are
/// described and scored; per class, proposals of its group with IoU < negative_iou against every ground
/// truth of the class and score > hard_margin are false positives; the hardest hard_negatives_per_image
/// not seen before join the pool. With regression != nullptr, proposals with IoU >= min_iou also become
/// box-regression samples (replacing earlier ones). Returns the number of negatives added per class.
std::vector<int> mine_hard_negatives(RegionSource& source, const MiningOptions& opts, const ClassScorer& score,
                                     int round, uint64_t seed, std::vector<ClassSamples>& samples,
                                     const BoxRegressionOptions* regression);

/// Keeps the max_negatives hardest negatives of each class (by score) when the pool is larger.
void prune_negatives(const MiningOptions& opts, const ClassScorer& score, std::vector<ClassSamples>& samples);

}  // namespace detlab
