// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Dataset accessors: image paths that must stay inside the root, image decoding errors, subsets.
#include <catch2/catch.hpp>

#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "core/error.h"
#include "data/data_test_util.h"
#include "data/formats.h"

using namespace detlab;
using namespace detlab::test;
namespace fs = std::filesystem;

namespace {
Dataset one_image(const fs::path& root, const std::string& file) {
  Dataset ds;
  ds.root = root;
  ImageRecord r;
  r.name = "a";
  r.file = file;
  ds.images.push_back(r);
  return ds;
}
}  // namespace

TEST_CASE("load_image: missing, unreadable and corrupt images are InputErrors naming the file", "[data][dataset][bad_input]") {
  TempDir tmp("load_image");
  CHECK(input_error_of([&] { one_image(tmp.path(), "missing.jpg").load_image(0); }).find("missing.jpg: image: file not found") !=
        std::string::npos);
  std::ofstream(tmp / "corrupt.jpg") << "\xFF\xD8\xFF this is not a JPEG";
  CHECK(input_error_of([&] { one_image(tmp.path(), "corrupt.jpg").load_image(0); }).find("corrupt.jpg: image: cannot decode") !=
        std::string::npos);
  // a truncated JPEG: the first 300 bytes of a real one
  std::ifstream in(test_data("voc2012-sample/JPEGImages/2007_000027.jpg"), std::ios::binary);
  std::string head(300, '\0');
  in.read(head.data(), 300);
  std::ofstream(tmp / "truncated.jpg", std::ios::binary) << head;
  CHECK(input_error_of([&] { one_image(tmp.path(), "truncated.jpg").load_image(0); }).find("truncated.jpg: image") !=
        std::string::npos);
  fs::create_directories(tmp / "dir.jpg");
  CHECK(input_error_of([&] { one_image(tmp.path(), "dir.jpg").load_image(0); }).find("dir.jpg: image") != std::string::npos);
}

TEST_CASE("image_path rejects paths that escape the dataset root", "[data][dataset][bad_input]") {
  CHECK(input_error_of([] { one_image("/data", "../../etc/passwd").image_path(0); }).find("escapes the dataset root") !=
        std::string::npos);
  CHECK(input_error_of([] { one_image("/data", "/etc/passwd").image_path(0); }).find("relative") != std::string::npos);
  CHECK(input_error_of([] { one_image("/data", "a/../../b.jpg").image_path(0); }).find("escapes") != std::string::npos);
  CHECK(one_image("/data", "JPEGImages/a.jpg").image_path(0) == fs::path("/data/JPEGImages/a.jpg"));
}

TEST_CASE("subset keeps ids and classes, an unknown split lists the known ones", "[data][dataset]") {
  CaptureStderr err;
  const Dataset ds = read_voc(repo_path("datasets/bccd"));
  const Dataset test = ds.subset("test");
  CHECK(test.images.size() == 72);
  CHECK(test.class_names == ds.class_names);
  CHECK(test.images[0].id == ds.images[ds.splits.at("test")[0]].id);
  CHECK(test.name == "bccd:test");
  const std::string m = input_error_of([&] { ds.subset("holdout"); });
  CHECK(m.find("split: unknown split 'holdout' (known: test, train, trainval, val)") != std::string::npos);
}
