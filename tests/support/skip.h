// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Test support: one policy for a check whose tool is missing. Debian's Catch2 v2 has no SKIP, so a skipped test
// prints a marker that ctest turns into "skipped" (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt) and returns;
// it never reads as passed.
#pragma once

#include <cstdlib>
#include <iostream>
#include <string>

#include <catch2/catch.hpp>

namespace detlab::testing {

/// The marker ctest looks for.
inline constexpr const char* kSkippedMarker = "DETLAB_SKIPPED:";

/// Reports the running test case as skipped; the caller returns right after.
inline void report_skipped(const std::string& why) { std::cout << kSkippedMarker << " " << why << std::endl; }

/// Whether the environment variable is set to 1.
inline bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string(v) == "1";
}

/// For a check that needs `tool`: when it is missing, the test fails naming the tool and how to install it,
/// unless skip_variable=1 is in the environment, which reports the test as skipped. Returns whether to go on.
///   if (!tool_available(has_torchvision(), "python3-torchvision", "DETLAB_SKIP_TV_PARITY")) return;
inline bool tool_available(bool available, const std::string& tool, const char* skip_variable) {
  if (available) return true;
  if (env_flag(skip_variable)) {
    report_skipped(tool + " is missing and " + skip_variable + "=1");
    return false;
  }
  FAIL(tool << " is missing: install it (make deps does), or set " << skip_variable << "=1 to skip these checks");
  return false;
}

}  // namespace detlab::testing
