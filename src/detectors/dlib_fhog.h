// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// dlib_fhog: dlib's own HOG detector (scan_fhog_pyramid + structural SVM), one per class, as a reference.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "config/config.h"
#include "detectors/postprocess.h"
#include "pipeline/build_context.h"
#include "pipeline/detector.h"

namespace detlab {

/// dlib's fhog_object_detector recipe (dlib/examples/fhog_object_detector_ex.cpp): an FHOG pyramid
/// (pyramid_down<6>) scanned by one linear filter, trained with the structural SVM of King 2015 ("Max-Margin
/// Object Detection") which needs no hard-negative mining. dlib detects one window shape per detector, so
/// multi-class data gets one detector per class, each with its class's median aspect ratio; all share one
/// FHOG pyramid per image at detection time (dlib::evaluate_detectors).
struct DlibFhogOptions {
  std::vector<std::string> class_names;
  float C = 5.f;              // dlib's train_simple_object_detector default; its loss is averaged over images
  float epsilon = 0.01f;      // dlib example's stopping tolerance
  int window_area = 2304;     // 48 x 48 px windows (same as sliding_window's learned windows)
  /// Smallest window side, px; a class whose 10th-percentile object is smaller gets a window that size (down
  /// to this), because dlib's pyramid only shrinks images and cannot find objects below its window.
  int min_window = 24;
  int upsample = 0;           // pyramid_up the images this many times (2x each) for objects below min_window
  float nuclear_norm = 0.f;   // dlib's nuclear-norm regulariser (0 = off; 0.1 in dlib's example when used)
  int max_images = 0;         // train each class on a random subset of this many images (0 = all)
  float adjust_threshold = -1.f;  // report detections with dlib confidence above this (< 0: more recall for AP)
  PostprocessOptions post;    // clip, per-class NMS (dlib already suppresses per class), top-k
};

/// Keys: C, epsilon, window_area, min_window, upsample, nuclear_norm, max_images, adjust_threshold, postprocess.
DlibFhogOptions parse_dlib_fhog(const Config& node, const std::vector<std::string>& class_names);
std::unique_ptr<Detector> make_dlib_fhog(const DlibFhogOptions& opts, const std::string& config_hash = "");

/// One window seen by a trained dlib_fhog detector's filter for a class (what detlab visualize explains).
struct FhogWindowEvidence {
  double confidence = 0;  // w . psi - b: dlib's detection confidence of the window (the score is its sigmoid)
  cv::Mat contributions;  // filter rows x cols CV_32F: per cell, the sum over its 31 features of w * psi
  Box grid;               // the image rectangle the filter's cells tile (the window and its padding cells)
};

/*  The evidence of `window` (image pixels; it is mapped to its best-matching pyramid window, as dlib maps a
    detection) for `label`'s filter on `bgr`: the window's FHOG feature vector psi from dlib's own scanner
    (scan_fhog_pyramid::get_feature_vector) dotted with the filter. Its confidence is the exact linear score;
    a detection's reported confidence comes from dlib's separable filter bank and agrees to ~1e-4.
    ensures: nullopt when `detector` is not a dlib_fhog detector; contributions sum to confidence + b.
    throws InputError when `label` has no trained filter.  */
std::optional<FhogWindowEvidence> dlib_fhog_evidence(Detector& detector, const cv::Mat& bgr, const Box& window,
                                                     int label);

}  // namespace detlab
