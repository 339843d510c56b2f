// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Config: a YAML tree with _base_ inheritance, --set overrides and unknown-key detection (yaml-cpp stays in
// config.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace detlab {

namespace detail {
struct ConfigNode;
}

/// A node of a configuration tree: a map, a sequence, a scalar or null, with its full dotted path
/// ("detector.proposals.max_proposals", sequence items as "sizes[2]") and the file it was read from.
///
/// Files inherit with `_base_: path` (or a list of paths, relative to the file): maps merge key by key,
/// everything else is replaced. A map that sets a different `type` than its base, or `_delete_: true`,
/// replaces the base map instead of merging (swapping a component drops the old component's options).
///
/// Every read through get() / child() marks the key as consumed; expect_consumed() throws InputError
/// naming the full dotted path of every key nobody read, so a misspelled key never silently runs defaults.
///
/// thread safety: copies share one tree; reading from several threads at once is not supported.
class Config {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMap };

  /// An empty map.
  Config();
  /// Reads a YAML file and resolves `_base_`. Errors (missing file, YAML syntax, base cycles) throw InputError.
  static Config load(const std::filesystem::path& file);
  /// Parses YAML text; `source` names it in error messages. `_base_` paths are relative to base_dir.
  static Config parse(const std::string& yaml, const std::string& source = "<string>",
                      const std::filesystem::path& base_dir = ".");

  /// Applies one override "a.b.c=value". value is YAML ("0.5", "true", "[1, 2]", "{k: v}", "text");
  /// "@file.yaml" replaces the node with that file's tree. Missing intermediate maps are created.
  void set(const std::string& assignment);
  void set(const std::string& dotted_key, const std::string& yaml_value);
  void apply_overrides(const std::vector<std::string>& assignments);

  Kind kind() const;
  bool is_map() const { return kind() == Kind::kMap; }
  bool is_sequence() const { return kind() == Kind::kSequence; }
  bool is_scalar() const { return kind() == Kind::kScalar; }
  bool is_null() const { return kind() == Kind::kNull; }

  /// Map keys in file order. Does not mark anything consumed.
  std::vector<std::string> keys() const;
  bool has(const std::string& key) const;
  /// Child node of a map; throws InputError if the key is missing. Marks the key consumed (not its children).
  Config child(const std::string& key) const;
  /// Sequence length and items.
  size_t size() const;
  Config at(size_t index) const;

  /// Required value; InputError naming the dotted path when missing or of the wrong type.
  template <class T>
  T get(const std::string& key) const {
    return child(key).template as<T>();
  }
  /// Optional value: `fallback` when the key is absent (a present key of the wrong type is still an error).
  template <class T>
  T get(const std::string& key, const T& fallback) const {
    return has(key) ? get<T>(key) : fallback;
  }
  /// This node's value. Supported: bool, int, int64_t, float, double, std::string and std::vector of those.
  /// Marks the whole subtree consumed.
  template <class T>
  T as() const;

  /// Throws InputError listing every key of this subtree that was never read (full dotted paths).
  void expect_consumed() const;
  /// Marks this subtree consumed (for nodes read by an external tool, e.g. copied verbatim into a manifest).
  void mark_consumed() const;

  const std::string& path() const { return path_; }
  /// File the node came from ("<string>", "--set" for overrides).
  const std::string& file() const;
  /// Path of a child: path() + "." + key (or key at the root).
  std::string child_path(const std::string& key) const;

  /// Canonical YAML of the subtree (after inheritance and overrides), and a stable 64-bit hash of it.
  std::string dump() const;
  std::string hash() const;
  /// A deep copy that shares nothing with this tree (consumption marks start fresh).
  Config clone() const;

 private:
  Config(std::shared_ptr<detail::ConfigNode> node, std::string path);
  std::string scalar_text(const char* expected) const;
  [[noreturn]] void type_error(const char* expected) const;
  template <class T>
  T scalar_as() const;

  std::shared_ptr<detail::ConfigNode> node_;
  std::string path_;
};

template <>
bool Config::as<bool>() const;
template <>
int Config::as<int>() const;
template <>
int64_t Config::as<int64_t>() const;
template <>
float Config::as<float>() const;
template <>
double Config::as<double>() const;
template <>
std::string Config::as<std::string>() const;
template <>
std::vector<int> Config::as<std::vector<int>>() const;
template <>
std::vector<int64_t> Config::as<std::vector<int64_t>>() const;
template <>
std::vector<float> Config::as<std::vector<float>>() const;
template <>
std::vector<double> Config::as<std::vector<double>>() const;
template <>
std::vector<std::string> Config::as<std::vector<std::string>>() const;
template <>
std::vector<bool> Config::as<std::vector<bool>>() const;
template <>
std::vector<std::vector<float>> Config::as<std::vector<std::vector<float>>>() const;

}  // namespace detlab
