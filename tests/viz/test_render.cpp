// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Rendering: colour map ends, overlay layout, colour bar, grids, CSV / PNG output, scatter plot.
#include "../train/catch_torch.h"

#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "viz/render.h"
#include "viz/scatter_plot.h"

using namespace detlab;
namespace fs = std::filesystem;

TEST_CASE("colour maps: viridis ends dark purple and yellow, values clip to the range", "[viz][render]") {
  cv::Mat v = (cv::Mat_<float>(1, 4) << -1.f, 0.f, 1.f, 2.f);
  const cv::Mat c = apply_colormap(v, 0, 1, Colormap::kViridis);
  REQUIRE(c.type() == CV_8UC3);
  const cv::Vec3b lo = c.at<cv::Vec3b>(0, 1), hi = c.at<cv::Vec3b>(0, 2);
  REQUIRE(lo[0] > lo[1]);            // viridis starts purple: blue > green
  REQUIRE(hi[2] > 200);              // ends yellow: red and green high
  REQUIRE(hi[1] > 200);
  REQUIRE(c.at<cv::Vec3b>(0, 0) == lo);  // clipped
  REQUIRE(c.at<cv::Vec3b>(0, 3) == hi);
  REQUIRE_THROWS_AS(parse_colormap("jet"), InputError);
}

TEST_CASE("heat-map figure: input, overlay and colour bar side by side under a title", "[viz][render]") {
  cv::Mat img(48, 64, CV_8UC3, cv::Scalar(40, 80, 120));
  cv::Mat map(48, 64, CV_32F);
  for (int r = 0; r < 48; ++r)
    for (int c = 0; c < 64; ++c) map.at<float>(r, c) = static_cast<float>(c);
  HeatmapStyle s;
  s.title = "Grad-CAM";
  const cv::Mat out = render_heatmap(img, map, s);
  REQUIRE(out.cols > 2 * 64 + 20);
  REQUIRE(out.rows > 48 + 20);
  // The overlay's left and right ends differ (a gradient), the plain input is unchanged.
  const int y = out.rows - 10 - 24;
  const int ox = 10 + 64 + 10;
  REQUIRE(out.at<cv::Vec3b>(y, ox + 1) != out.at<cv::Vec3b>(y, ox + 62));
  REQUIRE(out.at<cv::Vec3b>(y, 20) == cv::Vec3b(40, 80, 120));
  // A constant map still renders (a degenerate range is widened, not divided by zero).
  REQUIRE_NOTHROW(render_heatmap(img, cv::Mat(48, 64, CV_32F, cv::Scalar(3.f)), s));
}

TEST_CASE("grid, CSV and PNG writers", "[viz][render]") {
  const fs::path dir = fs::temp_directory_path() / ("detlab_test_viz_render_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::vector<cv::Mat> tiles(5, cv::Mat(3, 3, CV_8UC3, cv::Scalar(0, 0, 255)));
  const cv::Mat grid = tile_grid(tiles, {"a", "b", "c", "d", "e"}, 3, 24);
  REQUIRE(grid.cols == 4 + 3 * 28);
  write_png(dir / "g.png", grid);
  REQUIRE(cv::imread((dir / "g.png").string()).size() == grid.size());
  const cv::Mat v = (cv::Mat_<float>(2, 3) << 1.f, 2.5f, -3.f, 0.f, 1e-7f, 4.f);
  write_csv(dir / "v.csv", v);
  std::ifstream in(dir / "v.csv");
  std::string l1, l2;
  std::getline(in, l1);
  std::getline(in, l2);
  REQUIRE(l1 == "1,2.5,-3");
  REQUIRE(l2 == "0,1e-07,4");
  fs::remove_all(dir);
}

TEST_CASE("scatter plot: legend counts, colours per class", "[viz][render]") {
  const torch::Tensor p = torch::tensor({0.f, 0.f, 1.f, 1.f, 2.f, 0.f}).view({3, 2});
  ScatterStyle style;
  style.title = "t-SNE";
  const cv::Mat out = render_scatter(p, {0, 1, 1}, {"RBC", "background"}, style);
  REQUIRE(out.cols == 760);
  REQUIRE(class_plot_colour(1, "background") == cv::Scalar(150, 150, 150));
  REQUIRE(class_plot_colour(0, "RBC") != class_plot_colour(1, "WBC"));
  REQUIRE_THROWS(render_scatter(p, {0, 3, 1}, {"a", "b"}, style));
}
