// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Writes files atomically (temporary name, then rename) so that a failure never leaves a partial output.
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace detlab {

/// An output file that appears under its final name only when commit() succeeds. Until then the content goes
/// to "<path>.tmp.<pid>" in the same folder; the destructor removes it if commit() was never called.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path, std::ios::openmode mode = std::ios::out);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ofstream& stream() { return out_; }
  const std::filesystem::path& temp_path() const { return tmp_; }
  /// Flushes, closes and renames onto the final path; throws std::runtime_error on an I/O failure.
  void commit();

 private:
  std::filesystem::path path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

/// Writes text (or bytes) to path atomically.
void write_file_atomic(const std::filesystem::path& path, const std::string& content);
/// Calls write(stream) and renames the result onto path; nothing is left behind if write throws.
void write_file_atomic(const std::filesystem::path& path, const std::function<void(std::ostream&)>& write);
/// Reads a whole file; throws InputError naming the file when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace detlab
