// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// An image passed to detectors: id plus decoded BGR pixels.
#pragma once

#include <opencv2/core/mat.hpp>
#include <string>

namespace detlab {

struct Image {
  std::string id;  // dataset image name (file stem), used in messages and output file names
  cv::Mat bgr;     // CV_8UC3
};

}  // namespace detlab
