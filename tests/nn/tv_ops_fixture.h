// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Test helper: torchvision parity fixtures of the ops / modeling / losses tests (made by tv_ops_fixtures.py).
#pragma once

#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>
#include <torch/types.h>

#include <optional>
#include <string>

namespace detlab::test {

/// One fixture file: a dict str -> tensor / int / float / bool written by tests/nn/tv_ops_fixtures.py.
class TvOpsFixture {
 public:
  /// Loads DETLAB_BUILD_DIR/tv_ops/<name>.pt, running the peer script with DETLAB_PYTHON first when the file is
  /// missing or older than the script. When that Python has no torchvision the test fails, unless
  /// DETLAB_SKIP_TV_PARITY=1: then it is reported as skipped (support/skip.h) and nullopt comes back, so the
  /// caller returns. A script that fails with torchvision present fails the test.
  static std::optional<TvOpsFixture> load(const std::string& name);

  bool has(const std::string& key) const;
  at::Tensor tensor(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  double real(const std::string& key) const;
  bool flag(const std::string& key) const;
  /// Number of cases in a multi-case file (key "cases").
  int64_t cases() const { return integer("cases"); }

 private:
  explicit TvOpsFixture(c10::impl::GenericDict dict) : dict_(std::move(dict)) {}
  c10::IValue at_key(const std::string& key) const;
  c10::impl::GenericDict dict_;
};

/// Max |a - b| over all elements (a and b converted to double on the CPU; shapes must agree).
double max_abs_diff(const at::Tensor& a, const at::Tensor& b);

}  // namespace detlab::test
