// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Test support: the message of the InputError a call throws, for checks on what a user reads.
#pragma once

#include <string>
#include <utility>

#include "core/error.h"

namespace detlab::testing {

/// Runs f and returns the message of the InputError it throws, or "(no InputError)" when it throws none (any
/// other exception propagates and fails the test).
template <class F>
std::string input_error_of(F&& f) {
  try {
    std::forward<F>(f)();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

}  // namespace detlab::testing
