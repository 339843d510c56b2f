// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of resize planning, preprocessing against torch's interpolate, padding and box mapping.
#include "../train/catch_torch.h"

#include <opencv2/core.hpp>
#include <torch/nn/functional/upsampling.h>

#include "config/config.h"
#include "core/error.h"
#include "tensor/transform.h"

using namespace detlab;

namespace {

cv::Mat random_image(int w, int h, int seed) {
  cv::Mat m(h, w, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  return m;
}

/// Reference: torchvision's order of operations in plain torch (ToTensor, normalize, bilinear interpolate
/// with align_corners=false, optional flip).
torch::Tensor reference(const cv::Mat& bgr, int out_w, int out_h, bool flip, const TransformOptions& o) {
  torch::Tensor t = torch::from_blob(bgr.data, {bgr.rows, bgr.cols, 3}, torch::kUInt8).clone();
  t = t.flip({2}).permute({2, 0, 1}).to(torch::kFloat32).div(255);  // BGR -> RGB, CHW, [0, 1]
  t = (t - torch::tensor({o.mean[0], o.mean[1], o.mean[2]}).view({3, 1, 1})) /
      torch::tensor({o.std[0], o.std[1], o.std[2]}).view({3, 1, 1});
  if (out_w != bgr.cols || out_h != bgr.rows)
    t = torch::nn::functional::interpolate(
            t.unsqueeze(0), torch::nn::functional::InterpolateFuncOptions()
                                .size(std::vector<int64_t>{out_h, out_w})
                                .mode(torch::kBilinear)
                                .align_corners(false))
            .squeeze(0);
  return flip ? t.flip({2}) : t;
}

}  // namespace

TEST_CASE("plan_resize follows torchvision's min / max size rule", "[tensor][transform]") {
  TransformOptions o;  // 800 / 1333
  ResizePlan p = plan_resize(640, 480, o);
  CHECK(p.height == 800);  // the shorter side reaches min_size
  CHECK(p.width == 1066);  // floor(640 * 800 / 480) = floor(1066.67)
  CHECK(p.scale_x == Approx(1066.0 / 640));
  CHECK(p.scale_y == Approx(800.0 / 480));

  p = plan_resize(2000, 500, o);  // 800 / 500 = 1.6 would make the longer side 3200 > 1333
  CHECK(p.width == 1333);
  CHECK(p.height == 333);  // floor(500 * 1333 / 2000) = floor(333.25)

  p = plan_resize(640, 480, o, 0.5);  // jitter halves both targets: 400 / 666.5
  CHECK(p.height == 400);
  CHECK(p.width == 533);

  // torchvision's float32 scale (min_size * (1 / shorter)) rounds some sizes down by one pixel; these are the
  // sizes its _resize_image_and_masks gives (torchvision 0.14).
  p = plan_resize(500, 375, o);
  CHECK(p.height == 799);
  CHECK(p.width == 1066);
  o.min_size = 480;
  o.max_size = 640;
  p = plan_resize(400, 300, o);
  CHECK(p.height == 479);
  CHECK(p.width == 639);
  o = TransformOptions{};

  o.fixed_width = 448;
  o.fixed_height = 320;
  p = plan_resize(640, 480, o);
  CHECK(p.width == 448);
  CHECK(p.height == 320);
  CHECK(p.scale_x == Approx(0.7));
  CHECK(p.scale_y == Approx(320.0 / 480));

  TransformOptions keep;
  keep.min_size = 0;
  p = plan_resize(123, 45, keep);
  CHECK(p.width == 123);
  CHECK(p.height == 45);
  CHECK(p.scale_x == 1.f);
}

TEST_CASE("padded_size rounds up to the divisibility", "[tensor][transform]") {
  CHECK(padded_size(800, 32) == 800);
  CHECK(padded_size(801, 32) == 832);
  CHECK(padded_size(1066, 32) == 1088);
  CHECK(padded_size(17, 0) == 17);
  CHECK(padded_size(17, 1) == 17);
}

TEST_CASE("preprocessing equals normalize + torch bilinear interpolate (+ flip)", "[tensor][transform]") {
  TransformOptions o;
  const cv::Mat img = random_image(53, 37, 1);
  for (auto [w, h] : {std::pair{53, 37}, std::pair{80, 61}, std::pair{26, 19}, std::pair{100, 20}}) {
    ResizePlan p;
    p.width = w;
    p.height = h;
    for (bool flip : {false, true}) {
      INFO("size " << w << "x" << h << " flip " << flip);
      const torch::Tensor got = preprocess_image(img, p, flip, o);
      const torch::Tensor want = reference(img, w, h, flip, o);
      REQUIRE(got.sizes() == want.sizes());
      CHECK((got - want).abs().max().item<float>() < 2e-5f);
      if (w == img.cols) CHECK(torch::equal(got, want));  // no resize: the same float operations exactly
    }
  }
}

TEST_CASE("a flipped image is the mirror of the unflipped one", "[tensor][transform]") {
  TransformOptions o;
  const cv::Mat img = random_image(64, 48, 2);
  const ResizePlan p = plan_resize(64, 48, [] {
    TransformOptions t;
    t.min_size = 60;
    return t;
  }());
  CHECK(torch::equal(preprocess_image(img, p, true, o), preprocess_image(img, p, false, o).flip({2})));
}

TEST_CASE("to_network / to_original map boxes and invert each other", "[tensor][transform]") {
  ImageMeta m;
  m.orig_width = 100;
  m.orig_height = 50;
  m.scale_x = 2.f;
  m.scale_y = 4.f;
  m.width = 200;
  m.height = 200;
  const torch::Tensor boxes = torch::tensor({{10.f, 5.f, 30.f, 20.f}, {0.f, 0.f, 100.f, 50.f}});
  torch::Tensor net = to_network(boxes, m);
  CHECK(torch::equal(net, torch::tensor({{20.f, 20.f, 60.f, 80.f}, {0.f, 0.f, 200.f, 200.f}})));
  CHECK(torch::equal(to_original(net, m), boxes));

  m.flipped = true;  // x -> 200 - x, x1 and x2 swap roles
  net = to_network(boxes, m);
  CHECK(torch::equal(net, torch::tensor({{140.f, 20.f, 180.f, 80.f}, {0.f, 0.f, 200.f, 200.f}})));
  CHECK(torch::equal(to_original(net, m), boxes));

  // to_original clips to the original image.
  CHECK(torch::equal(to_original(torch::tensor({{-10.f, -4.f, 400.f, 400.f}}), ImageMeta{-1, 0, 100, 50, 2.f, 4.f, false, 200, 200}),
                     torch::tensor({{0.f, 0.f, 100.f, 50.f}})));
  CHECK(to_network(torch::zeros({0, 4}), m).sizes() == torch::IntArrayRef{0, 4});
}

TEST_CASE("make_eval_batch resizes, normalizes and zero-pads", "[tensor][transform]") {
  TransformOptions o;
  o.min_size = 40;
  o.max_size = 100;
  o.size_divisibility = 32;
  const cv::Mat a = random_image(60, 40, 3), b = random_image(30, 50, 4);
  const Batch batch = make_eval_batch({a, b}, o);
  REQUIRE(batch.images.sizes() == torch::IntArrayRef{2, 3, 96, 64});  // 60x40 -> 60x40; 30x50 -> 40x66 (pad 64x96)
  REQUIRE(batch.meta.size() == 2);
  CHECK(batch.targets.empty());
  CHECK(batch.meta[0].width == 60);
  CHECK(batch.meta[0].height == 40);
  CHECK(batch.meta[1].width == 40);
  CHECK(batch.meta[1].height == 66);
  CHECK(batch.meta[1].index == 1);
  CHECK(torch::equal(batch.images[0].slice(1, 0, 40).slice(2, 0, 60),
                     preprocess_image(a, plan_resize(60, 40, o), false, o)));
  CHECK(torch::equal(batch.images[1].slice(1, 0, 66).slice(2, 0, 40),
                     preprocess_image(b, plan_resize(30, 50, o), false, o)));
  CHECK(batch.images[0].slice(1, 40).abs().sum().item<float>() == 0.f);  // bottom padding
  CHECK(batch.images[1].slice(2, 40).abs().sum().item<float>() == 0.f);  // right padding
}

TEST_CASE("parse_transform reads its keys and names bad ones", "[tensor][transform]") {
  Config c = Config::parse("min_size: 600\nmax_size: 1000\nfixed_size: [448, 320]\nmean: [0.5, 0.5, 0.5]\n"
                           "std: [0.25, 0.25, 0.25]\nto_rgb: false\nsize_divisibility: 0\n");
  const TransformOptions o = parse_transform(c);
  CHECK(o.min_size == 600);
  CHECK(o.max_size == 1000);
  CHECK(o.fixed_width == 448);
  CHECK(o.fixed_height == 320);
  CHECK(o.mean[2] == 0.5f);
  CHECK(o.std[0] == 0.25f);
  CHECK_FALSE(o.to_rgb);
  CHECK(o.size_divisibility == 0);
  c.expect_consumed();

  CHECK(parse_transform(Config::parse("fixed_size: 300")).fixed_height == 300);
  CHECK_THROWS_WITH(parse_transform(Config::parse("mean: [0.5, 0.5]")), Catch::Contains("mean") && Catch::Contains("3 values"));
  CHECK_THROWS_AS(parse_transform(Config::parse("min_size: 800\nmax_size: 600")), InputError);
  CHECK_THROWS_AS(parse_transform(Config::parse("std: [1, 0, 1]")), InputError);
}
