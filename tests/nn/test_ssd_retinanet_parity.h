// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Shared checks of the SSD / RetinaNet parity tests: detections against torchvision's, with near-ties allowed.
#pragma once

#include <torch/types.h>

#include <algorithm>
#include <string>
#include <vector>

#include "nn/detection/detection_model.h"
#include "parity.h"

namespace detlab::test {

/// Largest differences found by require_same_detections.
struct DetectionDiff {
  double box = 0, score = 0;
};

/// Same number of detections, and each torchvision detection has its own twin among ours with the same label,
/// boxes within box_tol pixels and score within score_tol. Twins are searched at the same rank first, then
/// among detections of nearly equal score: two detections whose scores differ by less than float rounding
/// may come out of NMS in either order. Returns the largest differences over the twins.
inline DetectionDiff require_same_detections(const NetDetections& ours, const torch::Tensor& boxes,
                                             const torch::Tensor& scores, const torch::Tensor& labels,
                                             double box_tol = 1e-3, double score_tol = 1e-4) {
  const int64_t n = scores.size(0);
  INFO("ours " << ours.scores.size(0) << " detections, torchvision " << n);
  REQUIRE(ours.scores.size(0) == n);
  const auto ob = ours.boxes.to(torch::kDouble).contiguous(), tb = boxes.to(torch::kDouble).contiguous();
  const auto os = ours.scores.to(torch::kDouble).contiguous(), ts = scores.to(torch::kDouble).contiguous();
  const auto ol = ours.labels.to(torch::kLong).contiguous(), tl = labels.to(torch::kLong).contiguous();
  const double* pob = ob.data_ptr<double>();
  const double* ptb = tb.data_ptr<double>();
  const double* pos = os.data_ptr<double>();
  const double* pts = ts.data_ptr<double>();
  const int64_t* pol = ol.data_ptr<int64_t>();
  const int64_t* ptl = tl.data_ptr<int64_t>();
  auto box_diff = [&](int64_t i, int64_t j) {
    double d = 0;
    for (int c = 0; c < 4; ++c) d = std::max(d, std::abs(pob[4 * i + c] - ptb[4 * j + c]));
    return d;
  };
  auto twins = [&](int64_t i, int64_t j) {
    return pol[i] == ptl[j] && std::abs(pos[i] - pts[j]) <= score_tol && box_diff(i, j) <= box_tol;
  };
  std::vector<bool> used(static_cast<size_t>(n), false);
  DetectionDiff diff;
  int64_t swapped = 0;
  for (int64_t j = 0; j < n; ++j) {
    int64_t match = -1;
    if (!used[j] && twins(j, j)) {
      match = j;
    } else {
      for (int64_t i = 0; i < n && match < 0; ++i)
        if (!used[i] && twins(i, j)) match = i;
      ++swapped;
    }
    INFO("torchvision detection " << j << ": label " << ptl[j] << ", score " << pts[j] << ", box [" << ptb[4 * j]
                                  << ", " << ptb[4 * j + 1] << ", " << ptb[4 * j + 2] << ", " << ptb[4 * j + 3]
                                  << "]; ours at that rank: label " << pol[j] << ", score " << pos[j] << ", box ["
                                  << pob[4 * j] << ", " << pob[4 * j + 1] << ", " << pob[4 * j + 2] << ", "
                                  << pob[4 * j + 3] << "]");
    REQUIRE(match >= 0);
    used[match] = true;
    diff.box = std::max(diff.box, box_diff(match, j));
    diff.score = std::max(diff.score, std::abs(pos[match] - pts[j]));
  }
  // Reordering is only legitimate between nearly tied scores; most detections keep their rank.
  CHECK(swapped <= n / 10);
  return diff;
}

}  // namespace detlab::test
