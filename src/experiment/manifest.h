// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// What a manifest.json records about the environment of a run: git commit, library versions, machine, time.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace detlab {

/// The environment a comparison or ablation ran in (manifest.json "environment").
struct Environment {
  std::string git_commit = "unknown";  // `git rev-parse HEAD` in the current directory, else "unknown"
  bool git_dirty = false;              // uncommitted changes to tracked files (`git status --porcelain -uno`)
  /// The commit and dirty flag of src/ when this binary was built (code_identity.h's build fingerprint): a
  /// result belongs to the code that was built, which a later checkout does not change.
  std::string build_commit = "unknown";
  bool build_dirty = false;
  std::map<std::string, std::string> libraries;  // detlab, OpenCV, LibTorch, dlib, compiler (build-time)
  std::string cpu;                     // /proc/cpuinfo "model name", else "unknown"
  int hardware_threads = 0;
  std::string hostname;
};

/// Probes the environment (runs git once; no other process).
Environment probe_environment();

/// The environment as a JSON object (text).
std::string environment_json(const Environment& env);

/// "2024-05-01T12:34:56Z".
std::string iso_time_utc(std::chrono::system_clock::time_point t);

/// The command line as one shell-quotable string: "detlab compare experiments/bccd/compare.yaml --quick".
std::string join_command_line(const std::string& program, const std::vector<std::string>& args);

}  // namespace detlab
