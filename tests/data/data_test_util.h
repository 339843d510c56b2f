// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Helpers for the data-layer tests: fixture paths, temporary folders, stderr capture, box comparison.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/dataset.h"
#include "support/input_error.h"

namespace detlab::test {

inline std::filesystem::path test_data(const std::string& rel) { return std::filesystem::path(DETLAB_TEST_DATA) / rel; }
inline std::filesystem::path repo_path(const std::string& rel) { return std::filesystem::path(DETLAB_REPO_ROOT) / rel; }

/// A fresh folder under the system temp dir, removed with everything in it at scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("detlab_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

/// Redirects std::cerr into a string for the lifetime of the object.
class CaptureStderr {
 public:
  CaptureStderr() : old_(std::cerr.rdbuf(buf_.rdbuf())) {}
  ~CaptureStderr() { std::cerr.rdbuf(old_); }
  std::string text() const { return buf_.str(); }

 private:
  std::ostringstream buf_;
  std::streambuf* old_;
};

/// An object as a sortable tuple (class name, box, difficult), for comparing datasets with other label orders.
struct FlatObject {
  std::string cls;
  Box box;
  bool difficult = false;
  bool operator<(const FlatObject& o) const {
    if (cls != o.cls) return cls < o.cls;
    if (box.x1 != o.box.x1) return box.x1 < o.box.x1;
    if (box.y1 != o.box.y1) return box.y1 < o.box.y1;
    if (box.x2 != o.box.x2) return box.x2 < o.box.x2;
    return box.y2 < o.box.y2;
  }
};

inline std::vector<FlatObject> flat_objects(const Dataset& ds, const ImageRecord& r) {
  std::vector<FlatObject> out;
  for (const Object& o : r.objects) out.push_back({ds.class_names.at(o.label), o.box, o.difficult});
  std::sort(out.begin(), out.end());
  return out;
}

/// Largest coordinate difference between two boxes.
inline float box_diff(const Box& a, const Box& b) {
  return std::max({std::abs(a.x1 - b.x1), std::abs(a.y1 - b.y1), std::abs(a.x2 - b.x2), std::abs(a.y2 - b.y2)});
}

using testing::input_error_of;

}  // namespace detlab::test
