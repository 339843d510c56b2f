// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// OpenCV HOGDescriptor back end: one descriptor over the whole image, windows gathered block by block.
#include <cstring>

#include <opencv2/objdetect.hpp>

#include "core/error.h"
#include "features/hog_backend.h"

namespace detlab {

namespace {

class OpenCvHogGrid final : public HogGrid {
 public:
  OpenCvHogGrid(std::vector<float> blocks, int cells_x, int cells_y, int block, int block_dim)
      : blocks_(std::move(blocks)), cells_x_(cells_x), cells_y_(cells_y), block_(block), block_dim_(block_dim) {}

  int cells_x() const override { return cells_x_; }
  int cells_y() const override { return cells_y_; }

  void window(int cx, int cy, int wc, int hc, float* out) const override {
    DETLAB_REQUIRE(cx >= 0 && cy >= 0 && cx + wc <= cells_x_ && cy + hc <= cells_y_ && wc >= block_ && hc >= block_,
                   "window outside the HOG grid", cx, cy, wc, hc, cells_x_, cells_y_);
    // OpenCV orders blocks x-outer, y-inner, so each block column of the window is one contiguous run.
    const int nby = cells_y_ - block_ + 1;
    const size_t run = static_cast<size_t>(hc - block_ + 1) * block_dim_;
    for (int bx = cx; bx <= cx + wc - block_; ++bx) {
      std::memcpy(out, blocks_.data() + (static_cast<size_t>(bx) * nby + cy) * block_dim_, run * sizeof(float));
      out += run;
    }
  }

 private:
  std::vector<float> blocks_;
  int cells_x_, cells_y_, block_, block_dim_;
};

class OpenCvHog final : public HogBackend {
 public:
  OpenCvHog(int cell, int block, int bins) : cell_(cell), block_(block), bins_(bins) {
    DETLAB_REQUIRE(cell >= 2 && block >= 1 && bins >= 2, "invalid HOG parameters", cell, block, bins);
  }
  int cell() const override { return cell_; }
  int min_window_cells() const override { return block_; }
  int dim(int wc, int hc) const override { return (wc - block_ + 1) * (hc - block_ + 1) * block_dim(); }
  cv::Mat cell_sums(const float* values, int wc, int hc) const override {
    cv::Mat out = cv::Mat::zeros(hc, wc, CV_32F);
    // Blocks x-outer, y-inner (OpenCvHogGrid::window); inside a block its cells are x-outer, y-inner too, each
    // `bins` values (OpenCV's HOGCache: histogram offset (cell_x * block + cell_y) * bins).
    for (int bx = 0; bx <= wc - block_; ++bx)
      for (int by = 0; by <= hc - block_; ++by)
        for (int i = 0; i < block_; ++i)
          for (int j = 0; j < block_; ++j) {
            float sum = 0.f;
            for (int k = 0; k < bins_; ++k) sum += *values++;
            out.at<float>(by + j, bx + i) += sum;
          }
    return out;
  }

  std::unique_ptr<HogGrid> compute(const cv::Mat& bgr) const override {
    DETLAB_REQUIRE(bgr.type() == CV_8UC3, "HOG needs a CV_8UC3 image", bgr.type());
    const int cx = bgr.cols / cell_, cy = bgr.rows / cell_;
    std::vector<float> blocks;
    if (cx >= block_ && cy >= block_) {
      cv::HOGDescriptor d = descriptor(cx, cy);
      d.compute(bgr(cv::Rect(0, 0, cx * cell_, cy * cell_)), blocks, cv::Size(cell_, cell_), cv::Size(0, 0));
      DETLAB_CHECK(blocks.size() == static_cast<size_t>(dim(cx, cy)), "unexpected HOG length", blocks.size(),
                   dim(cx, cy));
    }
    return std::make_unique<OpenCvHogGrid>(std::move(blocks), cx, cy, block_, block_dim());
  }

  void window_reference(const cv::Mat& bgr, int cx, int cy, int wc, int hc, float* out) const override {
    const int gx = bgr.cols / cell_, gy = bgr.rows / cell_;
    DETLAB_REQUIRE(cx >= 0 && cy >= 0 && cx + wc <= gx && cy + hc <= gy, "window outside the image", cx, cy, wc, hc);
    cv::HOGDescriptor d = descriptor(wc, hc);
    std::vector<float> v;
    // The same cropped image as compute(), so that gradients at its border are computed alike.
    d.compute(bgr(cv::Rect(0, 0, gx * cell_, gy * cell_)), v, cv::Size(cell_, cell_), cv::Size(0, 0),
              {cv::Point(cx * cell_, cy * cell_)});
    DETLAB_CHECK(v.size() == static_cast<size_t>(dim(wc, hc)), "unexpected HOG length", v.size());
    std::memcpy(out, v.data(), v.size() * sizeof(float));
  }

 private:
  int block_dim() const { return block_ * block_ * bins_; }
  cv::HOGDescriptor descriptor(int wc, int hc) const {
    return cv::HOGDescriptor(cv::Size(wc * cell_, hc * cell_), cv::Size(block_ * cell_, block_ * cell_),
                             cv::Size(cell_, cell_), cv::Size(cell_, cell_), bins_);
  }
  int cell_, block_, bins_;
};

}  // namespace

std::unique_ptr<HogBackend> make_opencv_hog_backend(int cell, int block, int bins) {
  return std::make_unique<OpenCvHog>(cell, block, bins);
}

}  // namespace detlab
