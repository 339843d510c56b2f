// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Validation, class tables and number formatting shared by the format readers and writers.
#include "data/format_util.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>

#include "core/box_ops.h"
#include "core/error.h"

namespace detlab::detail {

namespace fs = std::filesystem;

bool accept_box(const Box& b, const std::string& file, const std::string& field, const ReadOptions& opts,
                float min_size) {
  std::vector<std::string> warnings;
  const bool accepted = accept_box(b, file, field, opts, warnings, min_size);
  for (const std::string& w : warnings) std::cerr << w;
  return accepted;
}

bool accept_box(const Box& b, const std::string& file, const std::string& field, const ReadOptions& opts,
                std::vector<std::string>& warnings, float min_size) {
  if (!is_finite(b)) throw InputError(file, field, "non-finite box coordinate");
  if (b.x2 < b.x1 || b.y2 < b.y1)
    throw InputError(file, field,
                     "inverted box (" + format_float(b.x1) + ", " + format_float(b.y1) + ", " +
                         format_float(b.x2) + ", " + format_float(b.y2) + "): right/bottom before left/top");
  if (b.width() > min_size && b.height() > min_size) return true;
  const std::string what = min_size > 0.f ? "box with zero area (at most one pixel column or row)"
                                          : "box with zero width or height";
  if (!opts.drop_empty_boxes) throw InputError(file, field, what);
  warnings.push_back("warning: " + file + ": " + field + ": dropping a " + what + "\n");
  return false;
}

void check_relative_path(const std::string& rel, const std::string& file, const std::string& field) {
  const fs::path p(rel);
  if (rel.empty()) throw InputError(file, field, "empty image path");
  if (p.is_absolute() || p.has_root_name() || p.has_root_directory())
    throw InputError(file, field, "image path '" + rel + "' must be relative to the dataset root");
  for (const fs::path& part : p)
    if (part == "..") throw InputError(file, field, "image path '" + rel + "' escapes the dataset root");
}

double parse_number(const std::string& text, const std::string& file, const std::string& field) {
  const std::string t = trim(text);
  char* end = nullptr;
  const double v = t.empty() ? 0.0 : std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size()) throw InputError(file, field, "not a number: '" + t + "'");
  if (!std::isfinite(v)) throw InputError(file, field, "non-finite number: '" + t + "'");
  return v;
}

long long parse_integer(const std::string& text, const std::string& file, const std::string& field) {
  const std::string t = trim(text);
  long long v = 0;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size())
    throw InputError(file, field, "not an integer: '" + t + "'");
  return v;
}

long long max_image_pixels() {
  constexpr long long kOpenCvDefault = 1LL << 30;  // CV_IO_MAX_IMAGE_PIXELS
  const char* env = std::getenv("OPENCV_IO_MAX_IMAGE_PIXELS");
  if (!env || !*env) return kOpenCvDefault;
  long long v = 0;
  const char* end = env + std::strlen(env);
  const auto r = std::from_chars(env, end, v);
  return r.ec == std::errc() && r.ptr == end && v > 0 ? v : kOpenCvDefault;
}

void check_image_size(long long width, long long height, const std::string& file, const std::string& field) {
  constexpr long long kMaxSide = 1LL << 20;
  if (width < 0 || height < 0) throw InputError(file, field, "negative image size");
  const long long limit = max_image_pixels();
  if (width > kMaxSide || height > kMaxSide || width * height > limit)
    throw InputError(file, field,
                     "image size " + std::to_string(width) + " x " + std::to_string(height) + " is above the limit (" +
                         std::to_string(limit) + " pixels, sides up to " + std::to_string(kMaxSide) +
                         "; OPENCV_IO_MAX_IMAGE_PIXELS raises the pixel limit)");
}

std::string format_float(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string format_double(double v) {
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string file_stem(const std::string& file) { return fs::path(file).stem().string(); }

std::vector<std::string> read_name_list(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError(file.string(), "", "cannot open file");
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

ClassTable::ClassTable(std::vector<std::string> names, bool fixed, bool skip_others)
    : names_(std::move(names)), fixed_(fixed), skip_others_(skip_others) {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (!index_.emplace(names_[i], static_cast<int>(i)).second)
      throw InputError("", "classes", "class '" + names_[i] + "' is listed twice");
  }
}

int ClassTable::label(const std::string& name, const std::string& file, const std::string& field) {
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  if (fixed_) {
    if (skip_others_) return -1;
    throw InputError(file, field, "class '" + name + "' is not in the class list");
  }
  if (name.empty()) throw InputError(file, field, "empty class name");
  names_.push_back(name);
  index_.emplace(name, static_cast<int>(names_.size()) - 1);
  return static_cast<int>(names_.size()) - 1;
}

void finish_dataset(Dataset& ds, const fs::path& source, const ReadOptions& opts, const fs::path& split_file) {
  if (ds.images.empty()) throw InputError(source.string(), "images", "the dataset has no images");
  std::set<std::string> names;
  for (const ImageRecord& r : ds.images)
    if (!names.insert(r.name).second)
      throw InputError(source.string(), "images", "two images share the name '" + r.name + "'");
  if (ds.category_ids.empty())
    for (int k = 0; k < ds.num_classes(); ++k) ds.category_ids.push_back(k + 1);
  DETLAB_CHECK(ds.category_ids.size() == ds.class_names.size(), ds.category_ids.size(), ds.class_names.size());
  if (opts.split.empty()) return;
  if (!ds.splits.count(opts.split)) {
    std::string known;
    for (const auto& kv : ds.splits) known += (known.empty() ? "" : ", ") + kv.first;
    const std::string where = split_file.empty() ? source.string() : split_file.string();
    throw InputError(where, "split",
                     (split_file.empty() ? "unknown split '" + opts.split + "'" : "split file not found") +
                         " (known splits: " + (known.empty() ? "none" : known) + ")");
  }
  const std::string name = ds.name;
  Dataset sub = ds.subset(opts.split);
  std::vector<int> all(sub.images.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  sub.splits[opts.split] = all;
  ds = std::move(sub);
}

std::string safe_file_part(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  return out;
}

}  // namespace detlab::detail
