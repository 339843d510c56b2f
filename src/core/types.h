// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Boundary value types shared by every layer: Box, Proposal, Detection (no torch, no OpenCV, no dlib).
#pragma once

#include <vector>

namespace detlab {

/// Axis-aligned box in input-image pixels, continuous coordinates, (x1,y1) top-left, (x2,y2) bottom-right.
/// No "+1" anywhere: width = x2 - x1. Formats with other conventions convert at the edge (data/voc.cpp, ...).
struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;

  float width() const { return x2 - x1; }
  float height() const { return y2 - y1; }
  float cx() const { return 0.5f * (x1 + x2); }
  float cy() const { return 0.5f * (y1 + y2); }
  bool operator==(const Box& o) const { return x1 == o.x1 && y1 == o.y1 && x2 == o.x2 && y2 == o.y2; }
  bool operator!=(const Box& o) const { return !(*this == o); }
};

/// A class-agnostic candidate region with its objectness (higher = more likely an object).
struct Proposal {
  Box box;
  float objectness = 0.f;
};

/// A scored, labelled box. label is in [0, num_classes); score is in [0, 1] for calibrated detectors.
struct Detection {
  Box box;
  int label = -1;
  float score = 0.f;
};

using Boxes = std::vector<Box>;
using Proposals = std::vector<Proposal>;
using Detections = std::vector<Detection>;

}  // namespace detlab
