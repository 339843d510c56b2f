// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SSD's training augmentation: the window resampling against a naive bilinear loop, the box map on hand-made
// cases, the patch sampler's guarantees over many draws, colour changes that keep grey grey, and a training step.
#include <catch2/catch.hpp>

#include <torch/types.h>

#include <cmath>

#include "nn/backbones/ssd_vgg.h"
#include "nn/detection/ssd.h"
#include "nn/detection/ssd_augment.h"
#include "catch_torch.h"

using namespace detlab;

namespace {

// grid_sample's bilinear rule (align_corners = false, zeros outside), one pixel at a time.
torch::Tensor naive_resample(const torch::Tensor& image, const PixelWindow& win) {
  const int64_t c = image.size(0), h = image.size(1), w = image.size(2);
  auto in = image.accessor<float, 3>();
  torch::Tensor out = torch::zeros_like(image);
  auto o = out.accessor<float, 3>();
  auto at = [&](int64_t k, int64_t y, int64_t x) { return (y < 0 || y >= h || x < 0 || x >= w) ? 0.f : in[k][y][x]; };
  for (int64_t v = 0; v < h; ++v)
    for (int64_t u = 0; u < w; ++u) {
      // The output pixel centre u + 0.5 shows the input point x0 + (u + 0.5) (x1 - x0) / w, a pixel centre at - 0.5.
      const double x = win.x0 + (u + 0.5) * win.width() / w - 0.5, y = win.y0 + (v + 0.5) * win.height() / h - 0.5;
      const auto x0 = static_cast<int64_t>(std::floor(x)), y0 = static_cast<int64_t>(std::floor(y));
      const double fx = x - x0, fy = y - y0;
      for (int64_t k = 0; k < c; ++k)
        o[k][v][u] = static_cast<float>((1 - fx) * (1 - fy) * at(k, y0, x0) + fx * (1 - fy) * at(k, y0, x0 + 1) +
                                        (1 - fx) * fy * at(k, y0 + 1, x0) + fx * fy * at(k, y0 + 1, x0 + 1));
    }
  return out;
}

double iou(const torch::Tensor& box, const PixelWindow& p) {
  const double iw = std::min<double>(box[2].item<double>(), p.x1) - std::max<double>(box[0].item<double>(), p.x0);
  const double ih = std::min<double>(box[3].item<double>(), p.y1) - std::max<double>(box[1].item<double>(), p.y0);
  if (iw <= 0 || ih <= 0) return 0;
  const double a = (box[2] - box[0]).item<double>() * (box[3] - box[1]).item<double>();
  return iw * ih / (a + p.width() * p.height() - iw * ih);
}

}  // namespace

TEST_CASE("resample_window equals a naive bilinear loop (crop, zoom out, identity)", "[nn][ssd][augment]") {
  torch::manual_seed(3);
  const torch::Tensor image = torch::rand({3, 24, 32});
  CHECK(torch::allclose(resample_window(image, {0, 0, 32, 24}), image, 1e-5, 1e-5));
  for (const PixelWindow& win : {PixelWindow{4, 2, 20, 14}, PixelWindow{-32, -12, 64, 36},
                                 PixelWindow{-5.5, 3.25, 30, 20}, PixelWindow{7, 0, 39, 24}}) {
    INFO("window " << win.x0 << " " << win.y0 << " " << win.x1 << " " << win.y1);
    CHECK(torch::allclose(resample_window(image, win), naive_resample(image, win), 1e-4, 1e-5));
  }
  CHECK_THROWS(resample_window(image, {5, 0, 5, 10}));
}

TEST_CASE("window_target maps, clips and keeps boxes by their centre", "[nn][ssd][augment]") {
  const NetTarget t{torch::tensor({{12.f, 12.f, 20.f, 20.f}, {0.f, 0.f, 8.f, 8.f}, {5.f, 5.f, 15.f, 15.f}}),
                    torch::tensor({0, 1, 2}, torch::kLong)};
  // A 32 x 32 crop from (10, 10): boxes move by -10; the second is outside, the third's centre on the edge.
  const NetTarget crop = window_target(t, {10, 10, 42, 42}, 32, 32, /*keep_centre_inside=*/true);
  CHECK(torch::equal(crop.boxes, torch::tensor({{2.f, 2.f, 10.f, 10.f}})));
  CHECK(torch::equal(crop.labels, torch::tensor({0}, torch::kLong)));
  const NetTarget loose = window_target(t, {10, 10, 42, 42}, 32, 32, /*keep_centre_inside=*/false);
  CHECK(torch::equal(loose.boxes, torch::tensor({{2.f, 2.f, 10.f, 10.f}, {0.f, 0.f, 5.f, 5.f}})));
  CHECK(torch::equal(loose.labels, torch::tensor({0, 2}, torch::kLong)));
  // Zoom out 2x with the image in the bottom-right quarter of the canvas: x' = (x + 32) / 2.
  const NetTarget zoom = window_target(t, {-32, -32, 32, 32}, 32, 32, false);
  CHECK(torch::equal(zoom.boxes, torch::tensor({{22.f, 22.f, 26.f, 26.f}, {16.f, 16.f, 20.f, 20.f},
                                                {18.5f, 18.5f, 23.5f, 23.5f}})));
  // A 2x enlargement of the top-left 16 x 8 quarter of a 32 x 16 image: x' = 2 x, y' = 2 y.
  const NetTarget wide = window_target({torch::tensor({{2.f, 1.f, 6.f, 3.f}}), torch::tensor({4}, torch::kLong)},
                                       {0, 0, 16, 8}, 16, 32, true);
  CHECK(torch::equal(wide.boxes, torch::tensor({{4.f, 2.f, 12.f, 6.f}})));
  CHECK(window_target({torch::zeros({0, 4}), torch::zeros({0}, torch::kLong)}, {1, 1, 9, 9}, 8, 8, true)
            .boxes.size(0) == 0);
}

TEST_CASE("the SSD patch sampler: whole image, IoU-bounded patches, expansion canvas", "[nn][ssd][augment]") {
  torch::manual_seed(11);
  const torch::Tensor boxes = torch::tensor({{20.f, 30.f, 60.f, 80.f}, {100.f, 40.f, 120.f, 60.f}});
  SsdAugmentOptions o;
  o.crop = true;
  UniformDraws draws;
  int whole = 0, crops = 0;
  double best_iou_seen = 0;
  for (int i = 0; i < 700; ++i) {
    bool crop = false;
    const PixelWindow p = sample_ssd_window(boxes, 120, 160, o, draws, &crop);
    if (!crop) {
      CHECK((p.x0 == 0 && p.y0 == 0 && p.x1 == 160 && p.y1 == 120));
      ++whole;
      continue;
    }
    ++crops;
    // Inside the image, sides in [0.3, 1] of it, aspect ratio in [1/2, 2], some object's centre inside.
    CHECK((p.x0 >= 0 && p.y0 >= 0 && p.x1 <= 160 + 1e-9 && p.y1 <= 120 + 1e-9));
    CHECK((p.width() >= 0.3 * 160 - 1e-9 && p.height() >= 0.3 * 120 - 1e-9));
    CHECK((p.width() / p.height() >= 0.5 && p.width() / p.height() <= 2.0));
    bool centre = false;
    for (int k = 0; k < 2; ++k) {
      const double cx = (boxes[k][0] + boxes[k][2]).item<double>() / 2, cy = (boxes[k][1] + boxes[k][3]).item<double>() / 2;
      centre = centre || (cx > p.x0 && cx < p.x1 && cy > p.y0 && cy < p.y1);
      best_iou_seen = std::max(best_iou_seen, iou(boxes[k], p));
    }
    CHECK(centre);
  }
  // One option in seven is the whole image, and so are the options whose 50 tries all fail: IoU >= 0.9 cannot
  // be met (a 40 x 50 box in patches of at least 48 x 36), IoU >= 0.7 and 0.5 are rare draws (375 of 700 here).
  CHECK(whole > 700 / 7 * 0.7);
  CHECK(whole < 700 * 0.65);
  CHECK(crops > 0);
  CHECK(best_iou_seen >= 0.5);
  CHECK(best_iou_seen < 0.9);

  // A 20 x 20 object overlaps any allowed patch by IoU 0.23 at most: only the options "any patch" and
  // "IoU >= 0.1" can crop (2 in 7).
  const torch::Tensor small = torch::tensor({{100.f, 40.f, 120.f, 60.f}});
  int small_crops = 0;
  for (int i = 0; i < 700; ++i) {
    bool crop = false;
    const PixelWindow p = sample_ssd_window(small, 120, 160, o, draws, &crop);
    small_crops += crop;
    if (crop) CHECK(iou(small[0], p) <= 400.0 / (0.3 * 160 * 0.3 * 120) + 1e-9);
  }
  CHECK((small_crops > 700 * 0.18 && small_crops < 700 * 0.40));

  SsdAugmentOptions zoom;
  zoom.expand = 4.0;
  int expanded = 0;
  for (int i = 0; i < 200; ++i) {
    bool crop = true;
    const PixelWindow c = sample_ssd_window(boxes, 120, 160, zoom, draws, &crop);
    CHECK_FALSE(crop);
    CHECK((c.x0 <= 0 && c.y0 <= 0 && c.x1 >= 160 && c.y1 >= 120));  // the canvas holds the image
    CHECK(c.width() / 160 == Approx(c.height() / 120));                // one ratio for both sides
    CHECK(c.width() <= 4 * 160 + 1e-9);
    expanded += c.width() > 160;
  }
  CHECK((expanded > 60 && expanded < 140));  // probability 1/2
}

TEST_CASE("photometric distortion stays in range and keeps grey grey", "[nn][ssd][augment]") {
  torch::manual_seed(5);
  SsdAugmentOptions o;
  o.photometric = true;
  o.mean = {0.4f, 0.5f, 0.6f};
  o.std = {0.2f, 0.25f, 0.3f};
  const torch::Tensor mean = torch::tensor({0.4f, 0.5f, 0.6f}).view({3, 1, 1});
  const torch::Tensor std = torch::tensor({0.2f, 0.25f, 0.3f}).view({3, 1, 1});
  UniformDraws draws;
  const torch::Tensor grey = torch::rand({1, 8, 8}).expand({3, 8, 8});
  const torch::Tensor colour = torch::rand({3, 8, 8});
  int changed = 0;
  for (int i = 0; i < 40; ++i) {
    const torch::Tensor g = photometric_distort((grey - mean) / std, o, draws) * std + mean;
    CHECK(torch::allclose(g[0], g[1], 1e-4, 1e-5));  // saturation and hue leave a grey image grey
    CHECK(torch::allclose(g[0], g[2], 1e-4, 1e-5));
    const torch::Tensor c = photometric_distort((colour - mean) / std, o, draws) * std + mean;
    CHECK(c.min().item<float>() >= -1e-5f);
    CHECK(c.max().item<float>() <= 1 + 1e-5f);
    changed += !torch::allclose(c, colour, 1e-4, 1e-5);
  }
  CHECK(changed > 30);  // unchanged only when all four steps are skipped (1 in 16)
}

TEST_CASE("random_ssd_augment: seeded, objects kept, padding untouched, SSD trains with it", "[nn][ssd][augment]") {
  SsdAugmentOptions o;
  o.photometric = true;
  o.expand = 4.0;
  o.crop = true;
  const torch::Tensor images = torch::randn({3, 3, 48, 64});
  const std::vector<ImageSize> sizes = {{48, 64}, {40, 50}, {48, 64}};
  const std::vector<NetTarget> targets = {
      {torch::tensor({{10.f, 10.f, 30.f, 40.f}}), torch::tensor({1}, torch::kLong)},
      {torch::tensor({{2.f, 2.f, 12.f, 12.f}, {30.f, 20.f, 45.f, 38.f}}), torch::tensor({0, 1}, torch::kLong)},
      {torch::zeros({0, 4}), torch::zeros({0}, torch::kLong)}};
  torch::manual_seed(7);
  const auto first = random_ssd_augment(images, sizes, targets, o);
  torch::manual_seed(7);
  const auto again = random_ssd_augment(images, sizes, targets, o);
  CHECK(torch::equal(first.first, again.first));
  for (int round = 0; round < 30; ++round) {
    const auto [out, moved] = random_ssd_augment(images, sizes, targets, o);
    REQUIRE(moved.size() == 3);
    CHECK(moved[0].boxes.size(0) == 1);
    CHECK(moved[1].boxes.size(0) >= 1);
    CHECK(moved[2].boxes.size(0) == 0);
    using torch::indexing::Slice;
    CHECK(torch::equal(out[1].index({Slice(), Slice(40, torch::indexing::None)}), images[1].index({Slice(), Slice(40, torch::indexing::None)})));
    for (const NetTarget& t : moved) {
      if (t.boxes.size(0) == 0) continue;
      CHECK(t.boxes.select(1, 2).gt(t.boxes.select(1, 0)).all().item<bool>());
      CHECK(t.boxes.select(1, 3).gt(t.boxes.select(1, 1)).all().item<bool>());
    }
    CHECK(moved[1].boxes.select(1, 2).le(50).all().item<bool>());  // inside its own 50 x 40 region
  }

  torch::manual_seed(0);
  SsdOptions so;
  so.num_classes = 2;
  so.anchors.aspect_ratios.assign(6, {2});
  so.augment = o;
  Ssd model(std::make_shared<SsdVgg>(small_ssd_vgg_extractor_options()), so);
  model.train();
  const auto losses = model.losses(torch::randn({2, 3, 128, 128}), {{128, 128}, {128, 128}},
                                   {targets[0], {torch::tensor({{30.f, 30.f, 100.f, 70.f}}), torch::tensor({0})}});
  REQUIRE(losses.size() == 2);
  CHECK(std::isfinite(losses.at("classification").item<double>()));
  CHECK(std::isfinite(losses.at("bbox_regression").item<double>()));
}

TEST_CASE("random_ssd_augment: the boxes follow the pixels (expansion and crop)", "[nn][ssd][augment]") {
  // Two objects painted in their own channel (label k in channel k) on a black image: after any expansion and
  // crop, each kept box covers its colour, and its colour lies nowhere far outside the box.
  using torch::indexing::Slice;
  torch::Tensor image = torch::zeros({1, 3, 96, 128});
  image[0][0].index_put_({Slice(10, 50), Slice(10, 40)}, 1.0);   // x 10..40, y 10..50
  image[0][1].index_put_({Slice(20, 80), Slice(60, 110)}, 1.0);  // x 60..110, y 20..80
  const std::vector<NetTarget> target = {
      {torch::tensor({{10.f, 10.f, 40.f, 50.f}, {60.f, 20.f, 110.f, 80.f}}), torch::tensor({0, 1}, torch::kLong)}};
  SsdAugmentOptions o;
  o.expand = 3.0;
  o.crop = true;
  torch::manual_seed(21);
  int checked = 0;
  for (int round = 0; round < 60; ++round) {
    const auto [out, moved] = random_ssd_augment(image, {{96, 128}}, target, o);
    const NetTarget& t = moved[0];
    REQUIRE(t.boxes.size(0) >= 1);
    for (int64_t k = 0; k < t.boxes.size(0); ++k) {
      const int64_t label = t.labels[k].item<int64_t>();
      const float x1 = t.boxes[k][0].item<float>(), y1 = t.boxes[k][1].item<float>();
      const float x2 = t.boxes[k][2].item<float>(), y2 = t.boxes[k][3].item<float>();
      const torch::Tensor colour = out[0][label];
      // The middle half of the box (bilinear edges blur up to ~2 px when a crop enlarges 3.3x).
      const auto ix1 = static_cast<int64_t>(std::ceil(x1 + (x2 - x1) / 4)), ix2 = static_cast<int64_t>(x2 - (x2 - x1) / 4);
      const auto iy1 = static_cast<int64_t>(std::ceil(y1 + (y2 - y1) / 4)), iy2 = static_cast<int64_t>(y2 - (y2 - y1) / 4);
      if (ix2 > ix1 && iy2 > iy1) {
        CHECK(colour.index({Slice(iy1, iy2), Slice(ix1, ix2)}).min().item<float>() > 0.95f);
        ++checked;
      }
      // Nothing of this colour beyond 4 px around the box.
      torch::Tensor outside = colour.clone();
      outside.index_put_({Slice(std::max<int64_t>(0, static_cast<int64_t>(y1) - 4), static_cast<int64_t>(y2) + 5),
                          Slice(std::max<int64_t>(0, static_cast<int64_t>(x1) - 4), static_cast<int64_t>(x2) + 5)},
                         0.0);
      CHECK(outside.max().item<float>() < 0.05f);
    }
  }
  CHECK(checked > 40);
}
