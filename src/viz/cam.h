// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// CAM (Zhou et al. 2016): class activation maps of GAP + linear networks.
#pragma once

#include "viz/heatmap.h"
#include "viz/score_model.h"

namespace detlab {

/*  M_c(i, j) = sum_k w_ck A_k(i, j) over the pooled layer A (paper, section 2): the score's linear layer applied
    at every cell instead of after the pooling, so that mean_ij M_c + b_c = score_c exactly. No ReLU (negative
    cells are evidence against the class). For such a model Grad-CAM of the pooled layer equals ReLU(M_c) / hw
    (alpha_k = w_ck / hw): tests/viz/test_cam.cpp checks this identity.
    requires: model.gap_linear() != nullptr (InputError naming `--method` otherwise); input as grad_cam's.
    ensures: a kLayer Heatmap of the pooled layer.  */
Heatmap cam(ScoreModel& model, const torch::Tensor& input, int64_t target = -1);

}  // namespace detlab
