// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Filter visualization: the first convolution's kernels as an image grid (Krizhevsky et al. 2012, figure 3).
#pragma once

#include <string>

#include <opencv2/core/mat.hpp>
#include <torch/nn/module.h>
#include <torch/types.h>

#include "tensor/transform.h"

namespace detlab {

struct FilterBank {
  std::string name;      // parameter name, e.g. "backbone.conv1.weight"
  torch::Tensor weight;  // C_out x C_in x kh x kw, float32 on the CPU
};

/// The first convolution of a network: the first 4-D parameter in named_parameters() order whose input has 3
/// channels (the image). InputError (field "model") when there is none.
FilterBank first_layer_filters(const torch::nn::Module& module);

/*  One tile per output channel: the kernel's 3 input planes shown as a colour patch in the image's channel
    order (BGR on screen), each kernel scaled symmetrically by its own max |w| (grey = 0), enlarged to `tile` px
    with visible pixels, captioned with its L2 norm, in rows of `cols` (0: a square-ish grid).
    requires: bank.weight C_out x 3 x kh x kw.  */
cv::Mat render_filters(const FilterBank& bank, const TransformOptions& transform, int tile = 48, int cols = 0);

}  // namespace detlab
