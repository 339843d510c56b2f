// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// hog: the batched path (one grid per pyramid level) against per-window HOG, the warp fallback, contracts.
#include <catch2/catch.hpp>

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "config/config.h"
#include "core/error.h"
#include "features/hog.h"
#include "features/hog_backend.h"
#include "features/hog_test_image.h"
#include "pipeline/region_evidence.h"
#include "pipeline/window_groups.h"
#include "proposals/sliding_window.h"

using namespace detlab;

namespace {

std::unique_ptr<HogBackend> backend(HogOptions::Backend b) {
  return b == HogOptions::Backend::kOpenCv ? make_opencv_hog_backend(8, 2, 9) : make_dlib_hog_backend(8);
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

double cosine(const float* a, const float* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) ab += double(a[i]) * b[i], aa += double(a[i]) * a[i], bb += double(b[i]) * b[i];
  return ab / std::sqrt(aa * bb + 1e-30);
}

// OpenCV's HOGDescriptor computes the same floats either way; dlib's FHOG mixes SIMD and scalar loops
// whose lanes depend on the pixel's position in the image, so it agrees only to float rounding.
float tolerance(HogOptions::Backend b) { return b == HogOptions::Backend::kOpenCv ? 1e-6f : 1e-4f; }

}  // namespace

TEST_CASE("hog grid windows equal per-window HOG computed on their own", "[features][hog]") {
  const auto which = GENERATE(HogOptions::Backend::kOpenCv, HogOptions::Backend::kDlib);
  const auto hog = backend(which);
  const cv::Mat img = test::textured_image(203, 157, 7767517);  // not a multiple of the cell on purpose
  const auto grid = hog->compute(img);
  REQUIRE(grid->cells_x() == 203 / 8);
  REQUIRE(grid->cells_y() == 157 / 8);
  for (const auto [wc, hc] : {std::pair{6, 6}, std::pair{8, 4}, std::pair{3, 7}, std::pair{2, 2}}) {
    std::vector<std::pair<int, int>> corners = {{0, 0},
                                                {grid->cells_x() - wc, grid->cells_y() - hc},
                                                {0, grid->cells_y() - hc},
                                                {grid->cells_x() - wc, 0},
                                                {5, 3},
                                                {11, 9}};
    for (const auto [cx, cy] : corners) {
      if (cx < 0 || cy < 0 || cx + wc > grid->cells_x() || cy + hc > grid->cells_y()) continue;
      std::vector<float> fast(hog->dim(wc, hc)), naive(hog->dim(wc, hc));
      grid->window(cx, cy, wc, hc, fast.data());
      hog->window_reference(img, cx, cy, wc, hc, naive.data());
      INFO("window " << wc << "x" << hc << " at cell " << cx << "," << cy);
      REQUIRE(max_abs_diff(fast, naive) <= tolerance(which));
    }
  }
}

TEST_CASE("hog descriptor lengths", "[features][hog]") {
  // OpenCV: (cells - block + 1)^2 blocks of 2 x 2 cells x 9 bins; dlib: 31 per cell.
  REQUIRE(make_opencv_hog_backend(8, 2, 9)->dim(8, 8) == 7 * 7 * 36);
  REQUIRE(make_opencv_hog_backend(8, 2, 9)->dim(8, 16) == 7 * 15 * 36);  // Dalal-Triggs 64 x 128: 3780
  REQUIRE(make_dlib_hog_backend(8)->dim(8, 8) == 8 * 8 * 31);
}

TEST_CASE("hog stage on sliding windows equals per-window HOG of each pyramid level", "[features][hog]") {
  const auto which = GENERATE(HogOptions::Backend::kOpenCv, HogOptions::Backend::kDlib);
  const int context = GENERATE(0, 1, 2);
  const cv::Mat bgr = test::textured_image(160, 120, 42);
  const Image image{"img", bgr};
  ImageContext ctx;
  ctx.image = &image;

  SlidingWindowOptions so;
  so.windows = {{48, 48}, {64, 32}};
  so.stride = 8;
  so.scale_step = 1.25f;
  so.min_object = 32.f;  // s_top = sqrt(48*48)/32 = 1.5 for the first window: upsampled levels too
  auto sw = make_sliding_window(so);
  const Proposals props = sw->propose(ctx);

  HogOptions ho;
  ho.backend = which;
  ho.context = context;
  auto hog = make_hog(ho);
  set_feature_windows(*hog, window_shapes_of(*sw));
  const RegionFeatures f = hog->extract(ctx, props);
  REQUIRE(f.host.rows == static_cast<int>(props.size()));
  REQUIRE(f.group_dims.size() == 2);

  // Independent re-enumeration of the pyramid: level l resizes by s_top / step^l; each shape is scanned
  // within half a step of its own range [s_lo, s_hi] (s_lo = 0: while it fits).
  const auto be = backend(which);
  const float root0 = 48.f, root1 = std::sqrt(64.f * 32.f);
  const float s_hi[2] = {root0 / 32.f, root1 / 32.f};
  const float s_top = std::max(s_hi[0], s_hi[1]);
  size_t row = 0;
  for (int level = 0;; ++level) {
    const float s = s_top / std::pow(1.25f, float(level));
    const int lw = std::lround(160 * s), lh = std::lround(120 * s);
    if (lw < 48 && lh < 32) break;
    if ((lw < 48 || lh < 48) && (lw < 64 || lh < 32)) break;
    cv::Mat lvl;
    cv::resize(bgr, lvl, cv::Size(lw, lh), 0, 0, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
    // The descriptor covers the window and `context` cells around it; beyond the level, border pixels.
    const int m = ho.context;
    cv::copyMakeBorder(lvl, lvl, 8 * m, 8 * m, 8 * m, 8 * m, cv::BORDER_REPLICATE);
    const WindowShape shapes[2] = {{48, 48}, {64, 32}};
    for (int k = 0; k < 2; ++k) {
      if (s > s_hi[k] * std::sqrt(1.25f)) continue;
      for (int y = 0; y + shapes[k].height <= lh; y += 8)
        for (int x = 0; x + shapes[k].width <= lw; x += 8) {
          REQUIRE(row < props.size());
          REQUIRE(f.groups[row] == k);
          const int wc = shapes[k].width / 8 + 2 * m, hc = shapes[k].height / 8 + 2 * m;
          std::vector<float> naive(be->dim(wc, hc));
          be->window_reference(lvl, x / 8, y / 8, wc, hc, naive.data());
          const std::vector<float> got(f.host.ptr<float>(row), f.host.ptr<float>(row) + naive.size());
          INFO("level " << level << " shape " << k << " at " << x << "," << y);
          REQUIRE(max_abs_diff(got, naive) <= tolerance(which));
          for (int c = static_cast<int>(naive.size()); c < f.host.cols; ++c) REQUIRE(f.host.at<float>(row, c) == 0.f);
          ++row;
        }
    }
  }
  REQUIRE(row == props.size());
}

TEST_CASE("hog warps boxes that are no level's window, close to the aligned path", "[features][hog]") {
  const auto which = GENERATE(HogOptions::Backend::kOpenCv, HogOptions::Backend::kDlib);
  const cv::Mat bgr = test::textured_image(200, 150, 3);
  const Image image{"img", bgr};
  ImageContext ctx;
  ctx.image = &image;
  SlidingWindowOptions so;
  so.windows = {{48, 48}, {64, 32}};
  auto sw = make_sliding_window(so);
  const Proposals aligned = sw->propose(ctx);
  HogOptions ho;
  ho.backend = which;
  auto hog = make_hog(ho);
  set_feature_windows(*hog, window_shapes_of(*sw));
  const RegionFeatures fa = hog->extract(ctx, aligned);

  // A third of a pixel off the grid: warped, yet described almost as the aligned window.
  Proposals shifted = aligned;
  for (Proposal& p : shifted) p.box.x1 += 0.33f, p.box.x2 += 0.33f;
  const RegionFeatures fs = hog->extract(ctx, shifted);
  double sum = 0;
  for (size_t i = 0; i < aligned.size(); ++i) {
    REQUIRE(fs.groups[i] == fa.groups[i]);
    sum += cosine(fa.host.ptr<float>(int(i)), fs.host.ptr<float>(int(i)), fa.dim(fa.groups[i]));
  }
  REQUIRE(sum / aligned.size() > 0.9);

  // Forcing each window's own group changes nothing.
  std::vector<int> groups(fa.groups.begin(), fa.groups.end());
  const RegionFeatures ff = extract_in_groups(*hog, ctx, aligned, groups);
  REQUIRE(cv::norm(ff.host, fa.host, cv::NORM_INF) == 0.0);

  // Arbitrary boxes take the window shape of the closest aspect ratio.
  const Proposals odd = {{{10.3f, 20.1f, 90.7f, 60.2f}, 0.f}, {{0.f, 0.f, 30.f, 33.f}, 0.f}};
  const RegionFeatures fo = hog->extract(ctx, odd);
  REQUIRE(fo.groups == std::vector<int>{1, 0});
  REQUIRE(cv::norm(fo.host.row(0)) > 0);
  REQUIRE(cv::norm(fo.host.row(1)) > 0);
}

TEST_CASE("hog uses its own window when the proposal stage has none", "[features][hog]") {
  const cv::Mat bgr = test::textured_image(120, 100, 5);
  const Image image{"img", bgr};
  ImageContext ctx;
  ctx.image = &image;
  auto hog = make_hog(parse_hog(Config::parse("{window: [32, 64]}")));
  const RegionFeatures f = hog->extract(ctx, {{{5.f, 5.f, 60.f, 90.f}, 1.f}});
  REQUIRE(f.host.rows == 1);
  REQUIRE(f.host.cols == make_opencv_hog_backend(8, 2, 9)->dim(4 + 2, 8 + 2));  // one cell of context
  REQUIRE(f.groups == std::vector<int>{0});
  REQUIRE(hog->extract(ctx, {}).host.rows == 0);
}

TEST_CASE("hog config errors name the key", "[features][hog]") {
  REQUIRE_THROWS_AS(parse_hog(Config::parse("{backend: fhog}")), InputError);
  REQUIRE_THROWS_AS(parse_hog(Config::parse("{cell: 1}")), InputError);
  REQUIRE_THROWS_AS(parse_hog(Config::parse("{window: [8, 8]}")), InputError);  // smaller than a block
  try {
    parse_hog(Config::parse("{backend: fhog}", "cfg.yaml"));
  } catch (const InputError& e) {
    REQUIRE(std::string(e.what()).find("backend") != std::string::npos);
  }
}

TEST_CASE("hog cell evidence: the weighted descriptor summed per cell adds up to the dot product, on its cells",
          "[features][hog][evidence]") {
  const auto which = GENERATE(HogOptions::Backend::kOpenCv, HogOptions::Backend::kDlib);
  HogOptions o;
  o.backend = which;
  o.window = {48, 32};
  o.context = 1;
  auto stage = make_hog(o);
  auto* cells = dynamic_cast<CellDecomposable*>(stage.get());
  REQUIRE(cells != nullptr);
  const Image img{"x", test::textured_image(160, 120, 11)};
  ImageContext ctx;
  ctx.image = &img;
  cv::RNG rng(3);
  // A cell-aligned window (the fast path) and a box that is warped.
  for (const Box& box : {Box{24.f, 16.f, 72.f, 48.f}, Box{20.5f, 13.f, 90.f, 61.f}}) {
    const Proposal p{box, 1.f};
    const RegionFeatures f = extract_in_groups(*stage, ctx, {p}, {0});
    std::vector<float> w(static_cast<size_t>(f.dim(0)));
    for (float& v : w) v = static_cast<float>(rng.gaussian(1.0));
    double dot = 0;
    for (int i = 0; i < f.dim(0); ++i) dot += double(w[static_cast<size_t>(i)]) * f.host.at<float>(0, i);
    const RegionCells rc = cells->decompose(ctx, p, 0, w);
    CHECK(rc.contributions.cols == 6 + 2);  // 48 / 8 cells and one context cell on each side
    CHECK(rc.contributions.rows == 4 + 2);
    CHECK(cv::sum(rc.contributions)[0] == Approx(dot).epsilon(1e-4).margin(1e-4));
    const float cw = (box.x2 - box.x1) / 6;
    CHECK(rc.grid.x1 == Approx(box.x1 - cw));
    CHECK(rc.grid.x2 == Approx(box.x2 + cw));
  }
  // Each cell's share lands on that cell: a dot at the centre of window cell (3, 2) (OpenCV votes a pixel at a
  // cell's centre into that cell alone) on a blank image; with weights of 1 the cell sums peak there.
  cv::Mat blank(64, 96, CV_8UC3, cv::Scalar::all(128));
  const cv::Point centre(16 + 8 * 2 + 4, 16 + 8 * 1 + 4);  // window at (16, 16): context cell 0, window cell (2, 1)
  cv::rectangle(blank, centre - cv::Point(1, 1), centre + cv::Point(1, 1), cv::Scalar::all(255), cv::FILLED);
  const Image dot_img{"dot", blank};
  ctx.image = &dot_img;
  const Proposal p{Box{16.f, 16.f, 64.f, 48.f}, 1.f};
  const int dim = extract_in_groups(*stage, ctx, {p}, {0}).dim(0);
  const RegionCells rc = cells->decompose(ctx, p, 0, std::vector<float>(static_cast<size_t>(dim), 1.f));
  cv::Point peak;
  cv::minMaxLoc(rc.contributions, nullptr, nullptr, nullptr, &peak);
  CHECK(peak == cv::Point(3, 2));  // descriptor cell = window cell + the context cell
}
