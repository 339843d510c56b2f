// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// linear_svm: one-vs-rest linear SVMs over region features, trained with hard-negative mining.
#pragma once

#include <memory>

#include "classifiers/box_regression.h"
#include "classifiers/hard_negative_mining.h"
#include "config/config.h"
#include "pipeline/stages.h"

namespace detlab {

/// One linear SVM per class, each on the rows of its feature group (its window shape), as in Dalal & Triggs
/// 2005 (one class) and R-CNN (Girshick et al. 2014, one SVM per class). Training (fit): positives are the
/// ground-truth boxes described in the class's window; negatives are random proposals with IoU < 0.3, then
/// the current model's false positives, over `mining.rounds` retraining rounds. Optional ridge box
/// regression per class (R-CNN appendix C).
///
/// Scores: column c + 1 = sigmoid(w_c . x + b_c), so 0.5 is the SVM's decision boundary; rows of another
/// group than class c's score 0 for c. Column 0 (background) = 1 - max over classes.
/// Deltas (with box_regression.enabled): the class's regressor on rows of its group, 0 elsewhere.
struct LinearSvmOptions {
  int num_classes = 1;       // from the dataset (BuildContext::class_names)
  float C = 0.01f;           // Dalal & Triggs 2005 trained their linear SVM (SVMLight) with C = 0.01
  float positive_weight = 1.f;  // C of positives = C * positive_weight (class imbalance)
  float epsilon = 1e-3f;     // solver tolerance (svm_trainer.h)
  int max_iterations = 10000;
  MiningOptions mining;
  BoxRegressionOptions box_regression;
};

/// Keys: C, positive_weight, epsilon, max_iterations, mining {...}, box_regression {enabled, lambda, min_iou,
/// max_samples}. num_classes comes from the caller.
LinearSvmOptions parse_linear_svm(const Config& node, int num_classes);
std::unique_ptr<ClassifierStage> make_linear_svm(const LinearSvmOptions& opts);

}  // namespace detlab
