// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Measured receptive fields against hand-computed ones; heat-map alignment on the image.
#include "../train/catch_torch.h"

#include <torch/nn/modules/conv.h>

#include <opencv2/core.hpp>

#include "viz/heatmap.h"
#include "viz/receptive_field.h"

using namespace detlab;

namespace {

/// conv 3x3 s1 p1 -> conv (k2 s2 p0 | 3x3 s2 p1) -> conv 3x3 s1 p1, every map tapped.
class ConvChain : public ScoreModel {
 public:
  explicit ConvChain(bool k2) {
    using torch::nn::Conv2d;
    using torch::nn::Conv2dOptions;
    a_ = module_.register_module("a", Conv2d(Conv2dOptions(3, 4, 3).padding(1)));
    b_ = module_.register_module("b", k2 ? Conv2d(Conv2dOptions(4, 4, 2).stride(2)) : Conv2d(Conv2dOptions(4, 4, 3).stride(2).padding(1)));
    c_ = module_.register_module("c", Conv2d(Conv2dOptions(4, 4, 3).padding(1)));
    t_.size_divisibility = 1;
  }
  std::vector<std::string> layers() const override { return {"a", "b", "c"}; }
  std::vector<std::string> score_names() const override { return {"s"}; }
  TapMap features(const torch::Tensor& x) override {
    TapMap m;
    m["a"] = torch::relu(a_->forward(x));
    m["b"] = torch::relu(b_->forward(m["a"]));
    m["c"] = c_->forward(m["b"]);
    return m;
  }
  torch::Tensor forward(const torch::Tensor& x, TapMap* maps) override {
    TapMap m = features(x);
    torch::Tensor s = m["c"].mean({1, 2, 3}).unsqueeze(1);
    if (maps) *maps = m;
    return s;
  }
  const TransformOptions& transform() const override { return t_; }
  torch::nn::Module& module() override { return module_; }
  torch::Device device() const override { return torch::kCPU; }

 private:
  torch::nn::Module module_;
  torch::nn::Conv2d a_{nullptr}, b_{nullptr}, c_{nullptr};
  TransformOptions t_;
};

}  // namespace

TEST_CASE("receptive fields of a conv chain match the hand computation", "[viz][receptive_field]") {
  torch::manual_seed(1);
  ConvChain padded(false);
  LayerGeometry g = probe_receptive_field(padded, "a");
  REQUIRE(g.stride == 1);
  REQUIRE(g.size == 3);
  REQUIRE(g.offset == Approx(0.5));  // cell j centred on pixel j
  g = probe_receptive_field(padded, "c");
  REQUIRE(g.stride == 2);
  REQUIRE(g.size == 9);  // 3, + 2 (3x3 s2), + 2 * 2 (3x3 after stride 2)
  REQUIRE(g.offset == Approx(0.5));  // padded 3x3 s2: cell j centred on input pixel 2j
  REQUIRE(g.channels == 4);
  ConvChain unpadded(true);
  g = probe_receptive_field(unpadded, "c");
  REQUIRE(g.stride == 2);
  REQUIRE(g.size == 8);        // 3, + 1 (2x2 s2), + 2 * 2
  REQUIRE(g.offset == Approx(1.0));  // 2x2 s2 without padding: cell j covers pixels 2j, 2j+1
  const auto w = receptive_window(g, 3, 5);
  REQUIRE(w[0] == Approx(1.0 + 10 - 4));
  REQUIRE(w[3] == Approx(1.0 + 6 + 4));
  // Geometry is cached per layer.
  REQUIRE(unpadded.geometry("c").size == 8);
}

TEST_CASE("layer maps land on the measured cell centres in the original image", "[viz][heatmap]") {
  LayerGeometry g;
  g.stride = 4;
  g.offset = 0.5;
  torch::Tensor map = torch::zeros({6, 8});
  map[2][3] = 1;
  ImageMeta meta;
  meta.orig_width = meta.width = 32;
  meta.orig_height = meta.height = 24;
  cv::Mat img = layer_map_to_image(map, g, meta);
  REQUIRE(img.cols == 32);
  REQUIRE(img.rows == 24);
  cv::Point at;
  cv::minMaxLoc(img, nullptr, nullptr, nullptr, &at);
  REQUIRE(at.x == 12);  // pixel centre 12.5 = 0.5 + 4 * 3
  REQUIRE(at.y == 8);
  REQUIRE(img.at<float>(8, 12) == Approx(1.0f));
  // The network saw the image at half size: the peak moves to original pixels 24..25 (centre 25).
  meta.orig_width = 64;
  meta.orig_height = 48;
  meta.scale_x = meta.scale_y = 0.5f;
  img = layer_map_to_image(map, g, meta);
  cv::minMaxLoc(img, nullptr, nullptr, nullptr, &at);
  REQUIRE(std::abs(at.x - 24.5) <= 0.5);
  REQUIRE(std::abs(at.y - 16.5) <= 0.5);
  // Input-grid maps: padding cut off, resize undone.
  torch::Tensor in = torch::zeros({28, 36});
  in.narrow(0, 0, 24).narrow(1, 0, 32).fill_(2.0);
  meta.orig_width = 32;
  meta.orig_height = 24;
  meta.scale_x = meta.scale_y = 1.f;
  const cv::Mat back = input_map_to_image(in, meta);
  REQUIRE(back.cols == 32);
  REQUIRE(cv::countNonZero(back != 2.0f) == 0);
}
