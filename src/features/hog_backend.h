// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// HOG back ends behind one interface: a grid computed once per image, windows cut out of it (no dlib here).
#pragma once

#include <memory>

#include <opencv2/core/mat.hpp>

namespace detlab {

/// The HOG of one image (a pyramid level or a warped patch), computed once; the descriptor of any window
/// aligned to the cell grid is cut out of it without recomputation.
class HogGrid {
 public:
  virtual ~HogGrid() = default;
  /// Complete cells of the image: floor(cols / cell) x floor(rows / cell). Pixels beyond them are ignored.
  virtual int cells_x() const = 0;
  virtual int cells_y() const = 0;
  /// Descriptor of the window whose top-left cell is (cx, cy), wc x hc cells, into out[0 .. dim(wc, hc)).
  /// requires: 0 <= cx, cx + wc <= cells_x(), 0 <= cy, cy + hc <= cells_y(), wc, hc >= min_window_cells().
  virtual void window(int cx, int cy, int wc, int hc, float* out) const = 0;
};

/// One HOG variant (OpenCV's Dalal-Triggs HOGDescriptor, dlib's FHOG).
/// thread safety: every method is const and may run concurrently.
class HogBackend {
 public:
  virtual ~HogBackend() = default;
  virtual int cell() const = 0;
  /// Smallest window side, in cells (OpenCV: one block).
  virtual int min_window_cells() const = 0;
  /// Descriptor length of a wc x hc-cell window.
  virtual int dim(int wc, int hc) const = 0;
  /// requires: bgr CV_8UC3.
  virtual std::unique_ptr<HogGrid> compute(const cv::Mat& bgr) const = 0;
  /// Entries of a wc x hc-cell window's descriptor (or of a per-entry product with it, weight * descriptor)
  /// summed cell by cell: hc x wc CV_32F; entry (r, c) sums the entries computed from the histogram of window
  /// cell (c, r) (OpenCV: each block that contains the cell holds one normalized copy of it). The total equals
  /// the sum of all dim(wc, hc) values. requires: values has dim(wc, hc) entries.
  virtual cv::Mat cell_sums(const float* values, int wc, int hc) const = 0;
  /// Naive reference for the equivalence test: the same window's descriptor computed on its own (OpenCV:
  /// HOGDescriptor with that window size at that location; dlib: FHOG of a crop around the window).
  virtual void window_reference(const cv::Mat& bgr, int cx, int cy, int wc, int hc, float* out) const = 0;
};

/// OpenCV HOGDescriptor (Dalal & Triggs 2005): cell x cell pixels, block x block cells per block with a
/// stride of one cell, `bins` unsigned orientations, L2-Hys. Window descriptor: blocks column-major (x outer,
/// y inner), as OpenCV orders them.
std::unique_ptr<HogBackend> make_opencv_hog_backend(int cell, int block, int bins);
/// dlib FHOG (Felzenszwalb et al. 2010): 31 features per cell. Window descriptor: cells row-major.
std::unique_ptr<HogBackend> make_dlib_hog_backend(int cell);

}  // namespace detlab
