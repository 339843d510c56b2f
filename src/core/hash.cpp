// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FNV-1a 64.
#include "core/hash.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <vector>

#include "core/error.h"

namespace detlab {

Fnv1a& Fnv1a::update(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t h = h_;
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ull;  // the FNV prime
  h_ = h;
  return *this;
}

std::string Fnv1a::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
  return buf;
}

std::string fnv1a_hex(std::string_view text) { return Fnv1a().update(text).hex(); }

namespace {

void hash_file(const std::filesystem::path& file, Fnv1a& h) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "", "cannot be read");
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw InputError(file.string(), "", "read error");
}

}  // namespace

std::string file_content_hash(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  Fnv1a h;
  if (!fs::is_directory(path)) {
    hash_file(path, h);
    return h.hex();
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(path))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    h.update(f.lexically_relative(path).generic_string()).update("\n");
    hash_file(f, h);
  }
  return h.hex();
}

}  // namespace detlab
