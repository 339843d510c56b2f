// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// cnn_crop: R-CNN's warp (context, bilinear resampling, mean padding) against a naive reference; the stage's rows.
#include <catch2/catch.hpp>

#include <cmath>

#include <opencv2/core.hpp>

#include "data/synthetic.h"
#include "features/cnn_crop_warp.h"
#include "pipeline/registries.h"
#include "pipeline/region_evidence.h"
#include "pipeline/torch_stage.h"
#include "nn/catch_torch.h"

using namespace detlab;

namespace {

/// Bilinear sample of one channel at continuous pixel-index coordinates (x, y): 0 beyond one pixel outside,
/// clamped to the border within it (RoIAlign's rule).
float sample(const torch::Tensor& img, double y, double x) {
  const int64_t h = img.size(0), w = img.size(1);
  if (y < -1 || y > h || x < -1 || x > w) return 0.f;
  y = std::max(0.0, y);
  x = std::max(0.0, x);
  int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x);
  int64_t y1 = y0 + 1, x1 = x0 + 1;
  if (y0 >= h - 1) y0 = y1 = h - 1, y = static_cast<double>(y0);
  if (x0 >= w - 1) x0 = x1 = w - 1, x = static_cast<double>(x0);
  const double ly = y - y0, lx = x - x0;
  auto at = [&](int64_t r, int64_t c) { return static_cast<double>(img[r][c].item<float>()); };
  return static_cast<float>((1 - ly) * (1 - lx) * at(y0, x0) + (1 - ly) * lx * at(y0, x1) + ly * (1 - lx) * at(y1, x0) +
                            ly * lx * at(y1, x1));
}

/// One 96 x 96 synthetic image (the stages' input).
Image synthetic_image() {
  SyntheticOptions o;
  o.num_images = 1;
  o.width = o.height = 96;
  const Dataset ds = make_synthetic(o);
  return Image{ds.images[0].name, ds.load_image(0)};
}

BuildContext build_context() {
  BuildContext b;
  b.registries = &builtin_registries();
  b.class_names = {"a", "b"};
  return b;
}

}  // namespace

TEST_CASE("cnn_crop warp: a box dilated by its context, resampled at output pixel centres", "[features][cnn_crop]") {
  torch::manual_seed(0);
  const torch::Tensor img = torch::randn({1, 1, 20, 24});
  SECTION("no context, box on the pixel grid, output the box's size: the patch itself") {
    const torch::Tensor sq = warp_regions(img, torch::tensor({{0.f, 4.f, 3.f, 12.f, 11.f}}), 8, 0.0);
    CHECK((sq[0][0] - img[0][0].slice(0, 3, 11).slice(1, 4, 12)).abs().max().item<float>() < 1e-6f);
  }
  SECTION("with context and outside the image: the naive bilinear reference") {
    const int64_t size = 12;
    const double context = 2.0;
    const float x1 = 15.5f, y1 = -3.f, x2 = 27.f, y2 = 9.f;  // partly outside (right, top)
    const torch::Tensor out = warp_regions(img, torch::tensor({{0.f, x1, y1, x2, y2}}), size, context);
    const double inner = size - 2 * context, cx = (x2 - x1) * context / inner, cy = (y2 - y1) * context / inner;
    const double bw = (x2 - x1 + 2 * cx) / size, bh = (y2 - y1 + 2 * cy) / size;
    double worst = 0;
    for (int64_t i = 0; i < size; ++i)
      for (int64_t j = 0; j < size; ++j) {
        const double y = y1 - cy + (i + 0.5) * bh - 0.5, x = x1 - cx + (j + 0.5) * bw - 0.5;
        worst = std::max(worst, std::abs(static_cast<double>(out[0][0][i][j].item<float>()) - sample(img[0][0], y, x)));
      }
    CHECK(worst < 1e-5);
  }
}

TEST_CASE("cnn_crop stage: one D-vector per box from the full-resolution image", "[features][cnn_crop]") {
  torch::manual_seed(2);
  BuildContext b = build_context();
  auto stage = builtin_registries().features.build(Config::parse("{type: cnn_crop, size: 32, context: 2}"), b);
  CHECK(b.region_shape == std::vector<int64_t>{128});  // small_resnet's layer4 channels
  const Image img = synthetic_image();
  ImageContext ctx;
  ctx.image = &img;
  const Proposals p = {{{10.f, 10.f, 50.f, 40.f}, 1.f}, {{0.f, 0.f, 96.f, 96.f}, 1.f}, {{10.f, 10.f, 50.f, 40.f}, 0.f}};
  const RegionFeatures f = stage->extract(ctx, p);
  REQUIRE(!f.device);
  REQUIRE(f.host.rows == 3);
  REQUIRE(f.host.cols == 128);
  CHECK(cv::norm(f.host.row(0), f.host.row(2)) == 0.0);  // the same box, the same vector
  CHECK(cv::norm(f.host.row(0), f.host.row(1)) > 0.0);
  const auto* tf = dynamic_cast<TorchFeatureStage*>(stage.get());
  REQUIRE(tf != nullptr);
  CHECK(tf->own_transform()->min_size == 0);  // no resize: crops come from the original pixels
  CHECK(tf->fine_tuning().has_value());
  CHECK(stage->extract(ctx, {}).rows() == 0);
  CHECK_THROWS_WITH(builtin_registries().features.build(Config::parse("{type: cnn_crop, size: 32, context: 16}"), b),
                    Catch::Contains("context"));
}

TEST_CASE("cnn_crop cell evidence: the crop map's cells add up to the linear score of the averaged vector",
          "[features][cnn_crop][evidence]") {
  torch::manual_seed(3);
  BuildContext b = build_context();
  auto stage = builtin_registries().features.build(Config::parse("{type: cnn_crop, size: 64, context: 4}"), b);
  auto* cells = dynamic_cast<CellDecomposable*>(stage.get());
  REQUIRE(cells != nullptr);
  const Image img = synthetic_image();
  ImageContext ctx;
  ctx.image = &img;
  const Proposal p{{10.f, 12.f, 58.f, 44.f}, 1.f};
  const RegionFeatures f = stage->extract(ctx, {p});
  cv::RNG rng(5);
  std::vector<float> w(static_cast<size_t>(f.host.cols));
  for (float& v : w) v = static_cast<float>(rng.gaussian(1.0));
  double dot = 0;  // the naive reference: weight . descriptor
  for (int i = 0; i < f.host.cols; ++i) dot += double(w[static_cast<size_t>(i)]) * f.host.at<float>(0, i);
  const RegionCells rc = cells->decompose(ctx, p, 0, w);
  CHECK(rc.contributions.rows == 2);  // 64 px crop, small_resnet's layer4 at stride 32
  CHECK(rc.contributions.cols == 2);
  CHECK(cv::sum(rc.contributions)[0] == Approx(dot).epsilon(1e-4).margin(1e-5));
  // The cells tile the dilated box: 4 of the 64 crop pixels on each side are context.
  CHECK(rc.grid.x1 == Approx(10.f - 48.f * 4 / 56));
  CHECK(rc.grid.y2 == Approx(44.f + 32.f * 4 / 56));
  CHECK_THROWS(cells->decompose(ctx, p, 0, std::vector<float>(3, 1.f)));
}
