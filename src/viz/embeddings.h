// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Region embeddings for t-SNE: one feature vector per ground-truth box of a data set, with its class.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "data/dataset.h"
#include "viz/classifier_view.h"
#include "viz/score_model.h"

namespace detlab {

struct Embeddings {
  torch::Tensor features;                // N x D float32, CPU
  std::vector<int> labels;               // N, index into class_names
  std::vector<std::string> class_names;
};

struct EmbeddingOptions {
  std::string layer;      // region features: the map RoIAlign reads ("" = model.default_layer())
  int max_per_class = 0;  // > 0: at most this many boxes per class (the first ones in data-set order)
  int output_size = 7;    // RoIAlign bins per side before averaging (Fast R-CNN's 7 x 7)
};

/*  Region features of a detector (or any ScoreModel): every ground-truth box of the listed images is pooled from
    `layer` with RoIAlign (aligned to the layer's measured cell centres, see LayerGeometry) and averaged over its
    bins: the box's mean feature, C values.  */
Embeddings region_embeddings(ScoreModel& model, const Dataset& images, const std::vector<int>& indices,
                             const EmbeddingOptions& opts = {});

/*  A crop classifier's embeddings: the pooled feature its linear layer reads (ClassifierNet::Output::embedding)
    for the crops of every ground-truth box, plus background crops, labelled with the classifier's classes.  */
Embeddings classifier_embeddings(const ClassifierView& classifier, const Dataset& images, const std::vector<int>& indices,
                                 int max_per_class = 0, uint64_t seed = 0);

}  // namespace detlab
