// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Checked config reads (see checked.h).
#include "config/checked.h"

#include <algorithm>

#include "core/error.h"

namespace detlab {

void config_error(const Config& node, const std::string& key, const std::string& message) {
  throw InputError(node.file(), node.child_path(key), message);
}

int64_t get_positive(const Config& node, const std::string& key, int64_t fallback) {
  const auto v = node.get<int64_t>(key, fallback);
  if (v <= 0) config_error(node, key, "must be positive, got " + std::to_string(v));
  return v;
}

double get_non_negative(const Config& node, const std::string& key, double fallback) {
  const double v = node.get<double>(key, fallback);
  if (!(v >= 0)) config_error(node, key, "must be >= 0");
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
