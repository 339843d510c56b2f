// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// YOLO v1's training targets (responsible predictors per cell) and its sum-squared loss.
#pragma once

#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace detlab {

/// The paper's values (Redmon et al. 2016, section 2.2).
struct YoloV1LossOptions {
  double lambda_coord = 5;          // boosts the box coordinate loss ...
  double lambda_noobj = 0.5;        // ... and damps the confidence loss of boxes without objects
  double lambda_class = 1;          // the paper has none (1); > 1 speeds up learning the classes from scratch
  bool rescore = true;              // confidence target = IoU(predicted, ground truth), as the paper; false: 1
  bool one_object_per_cell = true;  // the paper: a cell predicts one object (the largest whose centre it holds);
                                    // false: up to B objects, one per predictor, and a mixed class target
};

/// Ground truth of one image for YOLO: boxes normalized by the image size.
struct YoloTarget {
  at::Tensor boxes;   // T x 4 float: x1, y1, x2, y2 in [0, 1]
  at::Tensor labels;  // T int64 in [0, C)
};

/// The per-predictor and per-cell targets of a batch (all on the prediction's device).
struct YoloV1Targets {
  at::Tensor responsible;  // N x S x S x B float 0/1: predictor j of cell i is responsible for an object
  at::Tensor box;          // N x S x S x B x 4: x, y offsets in the cell, sqrt(w), sqrt(h) of the image
  at::Tensor confidence;   // N x S x S x B: IoU of the responsible predictor's box with its object (or 1)
  at::Tensor object_cell;  // N x S x S float 0/1: an object's centre falls in the cell
  at::Tensor classes;      // N x S x S x C: class distribution of the cell's objects (one-hot for one object)
  int64_t dropped = 0;     // objects left without a predictor (cell already taken / all B predictors used)
};

/// Builds the targets from the predictions (detached) and the ground truth. Objects are visited by decreasing
/// area; an object belongs to the cell holding its centre; its responsible predictor is the one of the cell's B
/// boxes (not yet responsible for another object) with the highest current IoU with it, ties to the lower index.
/// requires: pred N x S x S x (5B + C) (layout of YoloV1Head); targets.size() == N.
YoloV1Targets build_yolo_v1_targets(const at::Tensor& pred, const std::vector<YoloTarget>& targets, int64_t num_boxes,
                                    const YoloV1LossOptions& opts);

/// The v1 loss (equation 3 of the paper), summed over cells and divided by the batch size N:
///   loss_coord  = lambda_coord * sum_resp [(x - x^)^2 + (y - y^)^2 + (sqrt w - sqrt w^)^2 + (sqrt h - sqrt h^)^2]
///   loss_obj    = sum_resp (C - C^)^2
///   loss_noobj  = lambda_noobj * sum_not_resp C^2
///   loss_class  = lambda_class * sum_object_cells sum_c (p(c) - p^(c))^2
/// The network predicts sqrt(w) and sqrt(h) directly (linear outputs), so the coordinate term is a plain
/// squared error on them. ensures: four scalars, differentiable in pred.
std::map<std::string, at::Tensor> yolo_v1_loss(const at::Tensor& pred, const YoloV1Targets& targets, int64_t num_boxes,
                                               const YoloV1LossOptions& opts);

}  // namespace detlab
