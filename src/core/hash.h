// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FNV-1a 64: the one stable hash behind cache keys, config hashes and folder names (not cryptographic).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace detlab {

/// FNV-1a, 64 bit, fed incrementally. Stable across platforms, runs and builds (std::hash is not), so keys
/// written by one process are found by the next.
class Fnv1a {
 public:
  Fnv1a& update(const void* data, size_t size);
  Fnv1a& update(std::string_view text) { return update(text.data(), text.size()); }
  uint64_t value() const { return h_; }
  /// 16 lowercase hex digits.
  std::string hex() const;

 private:
  uint64_t h_ = 1469598103934665603ull;  // the FNV offset basis
};

/// Fnv1a().update(text).hex().
std::string fnv1a_hex(std::string_view text);

/// Fnv1a of a file's bytes. InputError naming the file when it cannot be read. A folder hashes its files'
/// relative paths and contents in sorted path order.
std::string file_content_hash(const std::filesystem::path& path);

}  // namespace detlab
