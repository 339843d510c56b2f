// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Dataset accessors: safe image paths, lazy decoding, subsets.
#include "data/dataset.h"

#include <opencv2/imgcodecs.hpp>

#include "core/box_ops.h"
#include "core/error.h"
#include "data/image_header.h"

namespace detlab {

namespace fs = std::filesystem;

size_t Dataset::num_objects() const {
  size_t n = 0;
  for (const ImageRecord& r : images) n += r.objects.size();
  return n;
}

fs::path Dataset::image_path(size_t i) const {
  DETLAB_REQUIRE(i < images.size(), i, images.size());
  const fs::path rel(images[i].file);
  if (rel.empty() || rel.is_absolute()) throw InputError(images[i].file, "file", "image path must be relative to the dataset root");
  for (const fs::path& part : rel)
    if (part == "..") throw InputError(images[i].file, "file", "image path escapes the dataset root");
  return root / rel;
}

cv::Mat Dataset::load_image(size_t i) const {
  DETLAB_REQUIRE(i < images.size(), i, images.size());
  auto mem = memory_images.find(images[i].name);
  if (mem != memory_images.end()) return mem->second;
  const fs::path p = image_path(i);
  std::error_code ec;  // a path the OS refuses (too long, ...) is "not found" too, not a filesystem_error
  if (!fs::is_regular_file(p, ec)) throw InputError(p.string(), "image", "file not found");
  cv::Mat m = decode_image(p, cv::IMREAD_COLOR);
  if (m.empty()) throw InputError(p.string(), "image", "cannot decode image (unreadable or corrupt)");
  return m;
}

Dataset Dataset::subset(const std::string& split) const {
  auto it = splits.find(split);
  if (it == splits.end()) {
    std::string known;
    for (const auto& kv : splits) known += (known.empty() ? "" : ", ") + kv.first;
    throw InputError(root.string(), "split", "unknown split '" + split + "' (known: " + (known.empty() ? "none" : known) + ")");
  }
  Dataset d = subset(it->second);
  d.name = name + ":" + split;
  return d;
}

Dataset Dataset::subset(const std::vector<int>& indices) const {
  Dataset d;
  d.name = name;
  d.format = format;
  d.root = root;
  d.class_names = class_names;
  d.category_ids = category_ids;
  for (int i : indices) {
    DETLAB_REQUIRE(i >= 0 && static_cast<size_t>(i) < images.size(), i, images.size());
    d.images.push_back(images[i]);
    auto mem = memory_images.find(images[i].name);
    if (mem != memory_images.end()) d.memory_images.insert(*mem);
  }
  return d;
}

int Dataset::label_of_category(int64_t category_id) const {
  for (size_t k = 0; k < category_ids.size(); ++k)
    if (category_ids[k] == category_id) return static_cast<int>(k);
  return -1;
}

int Dataset::find_image(int64_t id) const {
  for (size_t i = 0; i < images.size(); ++i)
    if (images[i].id == id) return static_cast<int>(i);
  return -1;
}

int Dataset::find_image_by_name(const std::string& n) const {
  for (size_t i = 0; i < images.size(); ++i)
    if (images[i].name == n) return static_cast<int>(i);
  return -1;
}

float object_area(const Object& o) { return o.area >= 0.f ? o.area : area(o.box); }

}  // namespace detlab
