// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// MappedFile: a file's bytes memory-mapped read-only, for readers of big files (COCO JSON, proposal caches)
// that must not copy them into memory.
#pragma once

#include <cstddef>
#include <filesystem>

namespace detlab {

/// What this represents: the bytes of one regular file, mapped read-only (MAP_PRIVATE) with sequential access
/// advised; resident memory grows only with the pages read. An empty file maps to an empty range.
/// Throws InputError naming the file when it cannot be opened, is not a regular file or cannot be mapped.
/// thread safety: the bytes may be read from any thread.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& file);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const char* begin() const { return data_; }
  const char* end() const { return data_ + size_; }
  size_t size() const { return size_; }
  /// Advises random access (per-record readers such as the proposal cache).
  void advise_random() const;

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace detlab
