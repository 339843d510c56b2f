// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Atomic file output and whole-file input.
#include "core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <system_error>

#include "core/error.h"
#include "core/write_error.h"

namespace detlab {

namespace fs = std::filesystem;

AtomicFile::AtomicFile(fs::path path, std::ios::openmode mode) : path_(std::move(path)) {
  if (path_.has_parent_path()) fs::create_directories(path_.parent_path());
  tmp_ = path_;
  tmp_ += ".tmp." + std::to_string(::getpid());
  errno = 0;
  out_.open(tmp_, mode | std::ios::out | std::ios::trunc);
  if (!out_) throw_write_error(path_, errno);
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ec;
    fs::remove(tmp_, ec);
  }
}

void AtomicFile::commit() {
  // A full disk shows at the first write(2) that fails: an earlier buffered write (the stream has failed
  // already, errno is still that call's), this flush or the close.
  int err = out_ ? 0 : errno;
  if (out_) {
    errno = 0;
    out_.flush();
    err = errno;
  }
  const bool flushed = static_cast<bool>(out_);
  out_.close();
  if (err == 0) err = errno;
  if (!flushed || !out_) throw_write_error(path_, err);
  fs::rename(tmp_, path_);
  committed_ = true;
}

void write_file_atomic(const fs::path& path, const std::string& content) {
  AtomicFile f(path, std::ios::binary);
  f.stream().write(content.data(), static_cast<std::streamsize>(content.size()));
  f.commit();
}

void write_file_atomic(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  AtomicFile f(path);
  write(f.stream());
  f.commit();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "", "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(path.string(), "", "read error");
  return ss.str();
}

}  // namespace detlab
