// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Test support: run `detlab ...` in-process with stdout and stderr captured, and per-process temporary folders.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command.h"

namespace detlab::testing {

struct CliResult {
  int code = -1;
  std::string out, err;
};

/// `detlab args... -q` in this process (cli::run), capturing what it prints.
inline CliResult detlab_run(std::vector<std::string> args) {
  args.push_back("-q");
  std::ostringstream out, err;
  auto* old_out = std::cout.rdbuf(out.rdbuf());
  auto* old_err = std::cerr.rdbuf(err.rdbuf());
  int code = -1;
  try {
    code = cli::run(args);
  } catch (...) {
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    throw;
  }
  std::cout.rdbuf(old_out);
  std::cerr.rdbuf(old_err);
  return {code, out.str(), err.str()};
}

/// An empty folder under the system temp folder, unique to this process (parallel ctest runs one process per
/// test case), removed when the object goes.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace detlab::testing
