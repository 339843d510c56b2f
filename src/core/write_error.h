// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// One error for an output that cannot be written (a full disk, a read-only folder, a missing parent).
#pragma once

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace detlab {

/// Throws std::filesystem::filesystem_error for `path` (the file the user named or will look for, not a
/// temporary name) with the system's reason `err` (errno as the failing call left it; EIO when 0). The
/// commands report it in one line, "PATH: No space left on device", with exit status 2.
[[noreturn]] inline void throw_write_error(const std::filesystem::path& path, int err) {
  throw std::filesystem::filesystem_error("cannot write", path,
                                          std::error_code(err != 0 ? err : EIO, std::generic_category()));
}

}  // namespace detlab
