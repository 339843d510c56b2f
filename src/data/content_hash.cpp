// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// content_hash(Dataset).
#include "data/content_hash.h"

#include <map>
#include <mutex>
#include <tuple>

#include "core/hash.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

/// Image files repeat across the entries of one comparison: each is read once per process.
std::string cached_file_hash(const fs::path& file) {
  static std::mutex mutex;
  static std::map<std::string, std::tuple<uintmax_t, fs::file_time_type, std::string>> cache;
  std::error_code ec;
  const uintmax_t size = fs::file_size(file, ec);
  const fs::file_time_type time = ec ? fs::file_time_type{} : fs::last_write_time(file, ec);
  const std::string key = fs::absolute(file).lexically_normal().string();
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = cache.find(key);
    if (!ec && it != cache.end() && std::get<0>(it->second) == size && std::get<1>(it->second) == time)
      return std::get<2>(it->second);
  }
  const std::string h = file_content_hash(file);
  std::lock_guard<std::mutex> lock(mutex);
  if (!ec) cache[key] = {size, time, h};
  return h;
}

template <class T>
void feed(Fnv1a& h, const T& v) {
  h.update(&v, sizeof v);
}

void feed_text(Fnv1a& h, const std::string& s) {
  feed(h, s.size());
  h.update(s);
}

}  // namespace

std::string content_hash(const Dataset& ds) {
  Fnv1a h;
  feed(h, ds.class_names.size());
  for (const std::string& c : ds.class_names) feed_text(h, c);
  for (int64_t id : ds.category_ids) feed(h, id);
  feed(h, ds.images.size());
  for (size_t i = 0; i < ds.images.size(); ++i) {
    const ImageRecord& r = ds.images[i];
    feed(h, r.id), feed_text(h, r.name), feed_text(h, r.file), feed(h, r.width), feed(h, r.height);
    feed(h, r.objects.size());
    for (const Object& o : r.objects) {
      feed(h, o.box.x1), feed(h, o.box.y1), feed(h, o.box.x2), feed(h, o.box.y2);
      feed(h, o.label), feed(h, o.difficult), feed(h, o.crowd), feed(h, o.area), feed(h, o.id);
    }
    const auto mem = ds.memory_images.find(r.name);
    if (mem != ds.memory_images.end()) {
      const cv::Mat& m = mem->second;
      feed(h, m.rows), feed(h, m.cols), feed(h, m.type());
      for (int y = 0; y < m.rows; ++y) h.update(m.ptr(y), m.cols * m.elemSize());
    } else {
      h.update(cached_file_hash(ds.image_path(i)));
    }
  }
  for (const auto& [name, indices] : ds.splits) {
    feed_text(h, name);
    feed(h, indices.size());
    for (int i : indices) feed(h, i);
  }
  return h.hex();
}

}  // namespace detlab
