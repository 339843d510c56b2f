// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// read_image_size (header parsing) against the full-decode reference on every fixture image and on PNG / BMP.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "data/data_test_util.h"
#include "data/image_header.h"

using namespace detlab;
using namespace detlab::test;
namespace fs = std::filesystem;

TEST_CASE("read_image_size matches a full decode on every fixture JPEG", "[data][image_header]") {
  size_t n = 0;
  for (const fs::path& dir : {test_data("voc2012-sample/JPEGImages"), test_data("dlib-faces"), repo_path("datasets/bccd/JPEGImages")}) {
    size_t in_dir = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() != ".jpg" || (dir.filename() == "JPEGImages" && in_dir >= 40)) continue;
      CHECK(read_image_size(e.path()) == read_image_size_decoded(e.path()));
      ++n, ++in_dir;
    }
  }
  CHECK(n >= 40 + 9 + 40);
}

TEST_CASE("read_image_size reads PNG, BMP and progressive JPEG headers", "[data][image_header]") {
  TempDir tmp("header");
  const cv::Mat img(23, 37, CV_8UC3, cv::Scalar(10, 20, 30));
  for (const char* name : {"a.png", "a.bmp", "a.jpg", "a.tif"}) {
    REQUIRE(cv::imwrite((tmp / name).string(), img));
    CHECK(read_image_size(tmp / name) == cv::Size(37, 23));
  }
  REQUIRE(cv::imwrite((tmp / "p.jpg").string(), img, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  CHECK(read_image_size(tmp / "p.jpg") == cv::Size(37, 23));
  const cv::Mat grey(5, 300, CV_8UC1, cv::Scalar(7));
  REQUIRE(cv::imwrite((tmp / "g.png").string(), grey));
  CHECK(read_image_size(tmp / "g.png") == cv::Size(300, 5));
}

TEST_CASE("read_image_size: missing or corrupt files are InputErrors", "[data][image_header][bad_input]") {
  TempDir tmp("header_bad");
  CHECK(input_error_of([&] { read_image_size(tmp / "none.jpg"); }).find("none.jpg: image") != std::string::npos);
  std::ofstream(tmp / "junk.jpg") << "\xFF\xD8\xFF\xE0 junk";
  CHECK(input_error_of([&] { read_image_size(tmp / "junk.jpg"); }).find("junk.jpg: image") != std::string::npos);
  std::ofstream(tmp / "text.png") << "hello";
  CHECK(input_error_of([&] { read_image_size(tmp / "text.png"); }).find("text.png: image") != std::string::npos);
  // A BMP whose height is INT32_MIN: OpenCV's decoder asserts (cv::Exception) instead of returning nothing.
  cv::imwrite((tmp / "ok.bmp").string(), cv::Mat(2, 3, CV_8UC3, cv::Scalar(1, 2, 3)));
  std::string bmp;
  {
    std::ifstream in(tmp / "ok.bmp", std::ios::binary);
    bmp.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  REQUIRE(bmp.size() > 26);
  bmp.replace(22, 4, std::string("\0\0\0\x80", 4));  // little-endian INT32_MIN
  std::ofstream(tmp / "bad.bmp", std::ios::binary) << bmp;
  CHECK(decode_image(tmp / "bad.bmp", cv::IMREAD_COLOR).empty());
  CHECK(input_error_of([&] { read_image_size(tmp / "bad.bmp"); }).find("bad.bmp: image: cannot decode") !=
        std::string::npos);
}

TEST_CASE("read_image_size: a header claiming 40,000 x 40,000 names the limit", "[data][image_header][bad_input]") {
  TempDir tmp("header_huge");
  auto png_claiming = [&](uint32_t w, uint32_t h) {
    const fs::path p = tmp / ("huge_" + std::to_string(w) + "x" + std::to_string(h) + ".png");
    std::string bytes = "\x89PNG\r\n\x1a\n";
    bytes += std::string("\0\0\0\x0dIHDR", 8);
    for (uint32_t v : {w, h})
      for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((v >> shift) & 0xFF);
    bytes += std::string("\x08\x02\0\0\0", 5);
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  };
  const std::string msg = input_error_of([&] { read_image_size(png_claiming(40000, 40000)); });
  CHECK(msg.find("huge_40000x40000.png: image: image size 40000 x 40000 is above the limit") != std::string::npos);
  CHECK(msg.find("OPENCV_IO_MAX_IMAGE_PIXELS") != std::string::npos);
  CHECK(input_error_of([&] { read_image_size(png_claiming(4000000000u, 2)); }).find("above the limit") !=
        std::string::npos);  // a side past int's range is refused, not wrapped
  CHECK(read_image_size(png_claiming(30000, 30000)) == cv::Size(30000, 30000));  // 9e8 < 2^30: only the header is read
}
