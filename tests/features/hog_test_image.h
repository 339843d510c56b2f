// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Deterministic textured test images with shapes (strong gradients) for the feature-stage tests.
#pragma once

#include <cstdint>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace detlab::test {

inline cv::Mat textured_image(int width, int height, uint64_t seed) {
  cv::RNG rng(seed);
  cv::Mat img(height, width, CV_8UC3);
  rng.fill(img, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(img, img, cv::Size(5, 5), 1.5);
  for (int i = 0; i < 8; ++i) {
    const cv::Scalar colour(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256));
    const cv::Point c(rng.uniform(0, width), rng.uniform(0, height));
    if (i % 2)
      cv::circle(img, c, rng.uniform(5, 30), colour, cv::FILLED, cv::LINE_AA);
    else
      cv::rectangle(img, c, c + cv::Point(rng.uniform(5, 40), rng.uniform(5, 40)), colour, cv::FILLED);
  }
  return img;
}

}  // namespace detlab::test
