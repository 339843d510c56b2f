// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Saliency maps: the vanilla input gradient (Simonyan et al. 2014) and SmoothGrad (Smilkov et al. 2017).
#pragma once

#include <cstdint>

#include "viz/heatmap.h"
#include "viz/score_model.h"

namespace detlab {

/*  d scores[n, target] / d input[n] for every image n of the batch (one backward pass; images are independent
    in eval mode, so the gradient of the summed scores separates).
    requires: input N x 3 x H x W on model.device(); 0 <= target < score_names().size().
    ensures: N x 3 x H x W float32.  */
torch::Tensor input_gradient(ScoreModel& model, const torch::Tensor& input, int64_t target);

struct SaliencyOptions {
  int64_t target = -1;  // score column; -1 = the best-scoring one
  int samples = 0;      // 0: vanilla gradient; > 0: SmoothGrad with this many noisy copies (paper: 50 saturates)
  float noise = 0.15f;  // SmoothGrad noise sigma as a fraction of the input's value range (paper: 10-20 %)
  int batch = 8;        // noisy copies per forward / backward pass
  uint64_t seed = 0;
};

/*  Vanilla: map(y, x) = max over channels of |gradient| (Simonyan et al. 2014, section 3.1).
    SmoothGrad: the gradient averaged over input + N(0, sigma^2) copies, then max over channels of |mean|
    (Smilkov et al. 2017, eq. 3, visualized by absolute value).
    requires: input 1 x 3 x H x W (or N: image 0 is used).
    ensures: a kInput Heatmap H x W (the padded tensor's grid), values >= 0.  */
Heatmap saliency(ScoreModel& model, const torch::Tensor& input, const SaliencyOptions& opts = {});

}  // namespace detlab
