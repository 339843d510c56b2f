// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Checked reads of config values: every parser's one-line InputError (file, dotted key, what is wrong; exit 2).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace detlab {

/// Throws InputError naming node's file and the dotted path of node.key, e.g.
/// "experiments/bccd/ssd.yaml: detector.backbone.type: expected vgg16 or mobilenet_v3_large, got 'vgg'".
[[noreturn]] void config_error(const Config& node, const std::string& key, const std::string& message);

/// node.key (fallback when absent), which must be > 0.
int64_t get_positive(const Config& node, const std::string& key, int64_t fallback);

/// node.key (fallback when absent), which must be >= min.
int64_t get_at_least(const Config& node, const std::string& key, int64_t fallback, int64_t min);

/// node.key (fallback when absent), a finite number >= 0 (NaN and infinity refused).
double get_non_negative(const Config& node, const std::string& key, double fallback);

/// An end of a RealRange that does not bound: {0.0, kUnbounded, true} is "> 0".
inline constexpr double kUnbounded = std::numeric_limits<double>::infinity();

/// An interval of real values, either end open; an infinite end means unbounded on that side.
struct RealRange {
  double lo;
  double hi;
  bool lo_open = false;
  bool hi_open = false;
  bool contains(double v) const;
  std::string text() const;  // "> 0", "in [0, 1]", "in (0, 0.5)"; empty when unbounded both ways
};

/// node.key (fallback when absent), a finite number inside `range`; the error states the range and the value.
double get_real(const Config& node, const std::string& key, double fallback, const RealRange& range);

/// node.key (fallback when absent), which must be one of `choices`; the error lists them.
std::string get_choice(const Config& node, const std::string& key, const std::string& fallback,
                       const std::vector<std::string>& choices);

/// node.key (fallback when absent) as the value of one of the named `choices`; the error lists the names.
/// requires: fallback is one of the choices' values.
template <class T>
T get_named(const Config& node, const std::string& key, T fallback,
            const std::vector<std::pair<std::string, T>>& choices) {
  std::vector<std::string> names;
  std::string fallback_name;
  for (const auto& [name, value] : choices) {
    names.push_back(name);
    if (value == fallback) fallback_name = name;
  }
  const std::string chosen = get_choice(node, key, fallback_name, names);
  for (const auto& [name, value] : choices) {
    if (name == chosen) return value;
  }
  return fallback;  // not reached: get_choice accepts only the names
}

}  // namespace detlab
