// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Checked config reads (see checked.h).
#include "config/checked.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/error.h"

namespace detlab {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

void config_error(const Config& node, const std::string& key, const std::string& message) {
  throw InputError(node.file(), node.child_path(key), message);
}

int64_t get_positive(const Config& node, const std::string& key, int64_t fallback) {
  const auto v = node.get<int64_t>(key, fallback);
  if (v <= 0) config_error(node, key, "must be positive, got " + std::to_string(v));
  return v;
}

int64_t get_at_least(const Config& node, const std::string& key, int64_t fallback, int64_t min) {
  const auto v = node.get<int64_t>(key, fallback);
  if (v < min) config_error(node, key, "must be >= " + std::to_string(min) + ", got " + std::to_string(v));
  return v;
}

double get_non_negative(const Config& node, const std::string& key, double fallback) {
  return get_real(node, key, fallback, {0.0, std::numeric_limits<double>::infinity()});
}

bool RealRange::contains(double v) const {
  if (!std::isfinite(v)) return false;
  const bool above = lo_open ? v > lo : v >= lo;
  const bool below = hi_open ? v < hi : v <= hi;
  return above && below;
}

std::string RealRange::text() const {
  if (std::isinf(lo) && std::isinf(hi)) return "";
  if (std::isinf(hi)) return (lo_open ? "> " : ">= ") + number(lo);
  if (std::isinf(lo)) return (hi_open ? "< " : "<= ") + number(hi);
  return std::string("in ") + (lo_open ? "(" : "[") + number(lo) + ", " + number(hi) + (hi_open ? ")" : "]");
}

double get_real(const Config& node, const std::string& key, double fallback, const RealRange& range) {
  const double v = node.get<double>(key, fallback);
  if (!range.contains(v)) {
    const std::string bound = range.text();
    config_error(node, key,
                 std::string(std::isfinite(v) ? "must be " : "must be a finite number") +
                     (bound.empty() || std::isfinite(v) ? "" : " ") + bound + ", got " + number(v));
  }
  return v;
}

std::string get_choice(const Config& node, const std::string& key, const std::string& fallback,
                       const std::vector<std::string>& choices) {
  const std::string v = node.get<std::string>(key, fallback);
  if (std::find(choices.begin(), choices.end(), v) != choices.end()) return v;
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  }
  config_error(node, key, "expected " + list + ", got '" + v + "'");
}

}  // namespace detlab
