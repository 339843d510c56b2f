// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Grad-CAM (Selvaraju et al. 2017): gradient-weighted class activation maps for any layer of any ScoreModel.
#pragma once

#include <string>

#include "viz/heatmap.h"
#include "viz/score_model.h"

namespace detlab {

struct GradCamOptions {
  std::string layer;    // "" = model.default_layer() (the last map: the most semantic, the paper's choice)
  int64_t target = -1;  // score column; -1 = the best-scoring one
};

/*  Grad-CAM of one score with respect to one layer A (C x h x w):
      alpha_k = (1 / hw) sum_ij d y / d A_k(i, j),   map = ReLU(sum_k alpha_k A_k)        (paper, eqs. 1-2)
    One forward pass keeping the graph, one backward pass from y to A only (torch::autograd::grad): the cost is
    bounded by one forward plus one partial backward (bench/bench_viz.cpp measures the ratio).
    requires: input 1 x 3 x H x W (or N: image 0 is used) on model.device(); layer in model.layers().
    ensures: a kLayer Heatmap h x w, values >= 0; target / target_name / score filled in.  */
Heatmap grad_cam(ScoreModel& model, const torch::Tensor& input, const GradCamOptions& opts = {});

}  // namespace detlab
