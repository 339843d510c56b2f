// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// dlib FHOG back end (the only file that instantiates dlib's FHOG templates).
#include <algorithm>
#include <cstring>

#include <dlib/image_transforms/fhog.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/core.hpp>

#include "core/error.h"
#include "features/hog_backend.h"

namespace detlab {

namespace {

constexpr int kFhogDim = 31;  // Felzenszwalb et al. 2010: 18 signed + 9 unsigned orientations + 4 texture
using FhogMap = dlib::array2d<dlib::matrix<float, kFhogDim, 1>>;

/// dlib's FHOG drops the outermost ring of cells (their normalisation needs neighbours), so the image is
/// padded by one cell on every side: FHOG cell (r, c) of the padded image is then cell (r, c) of the input.
cv::Mat pad_one_cell(const cv::Mat& bgr, int cell, int cells_x, int cells_y) {
  cv::Mat padded;
  cv::copyMakeBorder(bgr(cv::Rect(0, 0, cells_x * cell, cells_y * cell)), padded, cell, cell, cell, cell,
                     cv::BORDER_REPLICATE);
  return padded;
}

void fhog(const cv::Mat& bgr, int cell, FhogMap& out) {
  // cv_image wraps the pixels without a copy; FHOG takes the strongest channel's gradient per pixel.
  dlib::extract_fhog_features(dlib::cv_image<dlib::bgr_pixel>(bgr), out, cell);
}

class DlibHogGrid final : public HogGrid {
 public:
  DlibHogGrid(FhogMap map, int cells_x, int cells_y) : map_(std::move(map)), cells_x_(cells_x), cells_y_(cells_y) {}
  int cells_x() const override { return cells_x_; }
  int cells_y() const override { return cells_y_; }
  void window(int cx, int cy, int wc, int hc, float* out) const override {
    DETLAB_REQUIRE(cx >= 0 && cy >= 0 && cx + wc <= cells_x_ && cy + hc <= cells_y_ && wc >= 1 && hc >= 1,
                   "window outside the FHOG grid", cx, cy, wc, hc, cells_x_, cells_y_);
    for (int r = cy; r < cy + hc; ++r)
      for (int c = cx; c < cx + wc; ++c) {
        std::memcpy(out, &map_[r][c](0), kFhogDim * sizeof(float));
        out += kFhogDim;
      }
  }

 private:
  FhogMap map_;
  int cells_x_, cells_y_;
};

class DlibHog final : public HogBackend {
 public:
  explicit DlibHog(int cell) : cell_(cell) { DETLAB_REQUIRE(cell >= 2, "invalid FHOG cell size", cell); }
  int cell() const override { return cell_; }
  int min_window_cells() const override { return 1; }
  int dim(int wc, int hc) const override { return wc * hc * kFhogDim; }
  cv::Mat cell_sums(const float* values, int wc, int hc) const override {
    cv::Mat out(hc, wc, CV_32F);
    for (int r = 0; r < hc; ++r)  // cells row-major, 31 features each (DlibHogGrid::window)
      for (int c = 0; c < wc; ++c) {
        float sum = 0.f;
        for (int k = 0; k < kFhogDim; ++k) sum += *values++;
        out.at<float>(r, c) = sum;
      }
    return out;
  }

  std::unique_ptr<HogGrid> compute(const cv::Mat& bgr) const override {
    DETLAB_REQUIRE(bgr.type() == CV_8UC3, "FHOG needs a CV_8UC3 image", bgr.type());
    const int cx = bgr.cols / cell_, cy = bgr.rows / cell_;
    FhogMap map;
    if (cx >= 1 && cy >= 1) {
      fhog(pad_one_cell(bgr, cell_, cx, cy), cell_, map);
      DETLAB_CHECK(map.nr() == cy && map.nc() == cx, "unexpected FHOG grid", map.nr(), map.nc(), cy, cx);
    }
    return std::make_unique<DlibHogGrid>(std::move(map), cx, cy);
  }

  void window_reference(const cv::Mat& bgr, int cx, int cy, int wc, int hc, float* out) const override {
    const int gx = bgr.cols / cell_, gy = bgr.rows / cell_;
    DETLAB_REQUIRE(cx >= 0 && cy >= 0 && cx + wc <= gx && cy + hc <= gy, "window outside the image", cx, cy, wc, hc);
    // A cell's FHOG depends on pixels at most two cells (+1 pixel) away: its own and its neighbours'
    // histograms (bilinear votes) and the energies of the 2x2-cell blocks around it. Three cells of margin
    // make the crop's interior identical to the whole-image computation.
    constexpr int kMargin = 3;
    const cv::Mat padded = pad_one_cell(bgr, cell_, gx, gy);
    const int x0 = std::max(0, cx + 1 - kMargin), y0 = std::max(0, cy + 1 - kMargin);
    const int x1 = std::min(gx + 2, cx + 1 + wc + kMargin), y1 = std::min(gy + 2, cy + 1 + hc + kMargin);
    const cv::Mat crop = padded(cv::Rect(x0 * cell_, y0 * cell_, (x1 - x0) * cell_, (y1 - y0) * cell_)).clone();
    FhogMap map;
    fhog(crop, cell_, map);
    // FHOG cell j of the crop is crop cell j + 1, i.e. padded cell x0 + j + 1, i.e. input cell x0 + j.
    for (int r = cy; r < cy + hc; ++r)
      for (int c = cx; c < cx + wc; ++c) {
        std::memcpy(out, &map[r - y0][c - x0](0), kFhogDim * sizeof(float));
        out += kFhogDim;
      }
  }

 private:
  int cell_;
};

}  // namespace

std::unique_ptr<HogBackend> make_dlib_hog_backend(int cell) { return std::make_unique<DlibHog>(cell); }

}  // namespace detlab
