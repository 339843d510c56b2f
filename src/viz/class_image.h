// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Class visualization by gradient ascent on the input (Simonyan et al. 2014) with Yosinski et al.'s (2015)
// regularizers: L2 decay, jitter and Gaussian blur.
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core/mat.hpp>
#include <torch/types.h>

#include "viz/score_model.h"

namespace detlab {

struct ClassImageOptions {
  int64_t target = 0;       // score column to maximize
  int steps = 200;          // ascent steps (Yosinski et al. run a few hundred)
  double lr = 0.05;         // step per iteration, in normalized-input units per mean |gradient| (a normalized
                            // step: the same setting works for logits of any scale)
  double l2_decay = 0.01;   // x <- (1 - l2_decay) x after each step: pulls unused pixels back to the mean
  int jitter = 4;           // each step sees the image rolled by up to this many pixels in x and y
  double blur_sigma = 0.5;  // Gaussian blur of the image every blur_every steps (0: off)
  int blur_every = 4;
  uint64_t seed = 0;        // jitter offsets
};

struct ClassImageResult {
  torch::Tensor image;         // 1 x 3 x H x W, normalized input space, on the CPU
  std::vector<double> scores;  // scores[t]: target score of the image after t steps (scores[0] = the start)
};

/*  Gradient ascent on the target score: each step rolls the image by a random offset (jitter), takes the
    gradient of the score there, moves the image by lr * gradient / mean|gradient|, shrinks it by the L2 decay,
    blurs it every blur_every steps and clips it to the pixels the normalization can produce.
    requires: start 1 x 3 x H x W normalized on model.device() (noise for a classifier; the image itself for a
              detection, whose target is tied to the input size); 0 <= target < score_names().size().
    ensures: scores.size() == steps + 1.  */
ClassImageResult class_image(ScoreModel& model, const torch::Tensor& start, const ClassImageOptions& opts);

/// A start image for class_image: Gaussian noise of standard deviation `sigma` around the normalization mean.
torch::Tensor noise_image(int64_t height, int64_t width, double sigma, uint64_t seed, const torch::Device& device);

/// A normalized 1 x 3 x H x W (or 3 x H x W) tensor back to BGR pixels (clipped), undoing transform's
/// normalization and channel order.
cv::Mat to_bgr(const torch::Tensor& image, const TransformOptions& transform);

/// Separable Gaussian blur of an N x C x H x W tensor (reflected borders).
torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma);

}  // namespace detlab
