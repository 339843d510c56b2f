// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Config tree: YAML parsing (yaml-cpp), _base_ inheritance, overrides, typed reads and unknown-key errors.
#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"

namespace detlab {

namespace fs = std::filesystem;

namespace detail {
struct ConfigNode {
  Config::Kind kind = Config::Kind::kNull;
  std::string scalar;
  bool quoted = false;
  std::vector<std::shared_ptr<ConfigNode>> items;
  std::vector<std::pair<std::string, std::shared_ptr<ConfigNode>>> entries;
  std::string file;
  mutable bool consumed = false;
  mutable std::set<std::string> queried;  // keys asked for (present or not): the "did you mean" candidates

  std::shared_ptr<ConfigNode> find(const std::string& key) const {
    for (const auto& [k, v] : entries)
      if (k == key) return v;
    return nullptr;
  }
  void erase(const std::string& key) {
    entries.erase(std::remove_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == key; }),
                  entries.end());
  }
};
}  // namespace detail

using detail::ConfigNode;
using NodePtr = std::shared_ptr<ConfigNode>;

namespace {

NodePtr from_yaml(const YAML::Node& y, const std::string& file) {
  auto n = std::make_shared<ConfigNode>();
  n->file = file;
  switch (y.Type()) {
    case YAML::NodeType::Scalar:
      n->kind = Config::Kind::kScalar;
      n->scalar = y.Scalar();
      n->quoted = y.Tag() == "!";
      break;
    case YAML::NodeType::Sequence:
      n->kind = Config::Kind::kSequence;
      for (const auto& item : y) n->items.push_back(from_yaml(item, file));
      break;
    case YAML::NodeType::Map:
      n->kind = Config::Kind::kMap;
      for (const auto& kv : y) {
        const std::string key = kv.first.as<std::string>();
        if (n->find(key)) throw InputError(file, key, "duplicate key");
        n->entries.emplace_back(key, from_yaml(kv.second, file));
      }
      break;
    default:
      n->kind = Config::Kind::kNull;
  }
  return n;
}

NodePtr parse_yaml(const std::string& text, const std::string& source) {
  try {
    return from_yaml(YAML::Load(text), source);
  } catch (const YAML::Exception& e) {
    throw InputError(source, "", "YAML syntax error at line " + std::to_string(e.mark.line + 1) + ", column " +
                                     std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

NodePtr deep_copy(const NodePtr& n) {
  auto c = std::make_shared<ConfigNode>(*n);
  c->consumed = false;
  c->queried.clear();
  for (auto& item : c->items) item = deep_copy(item);
  for (auto& e : c->entries) e.second = deep_copy(e.second);
  return c;
}

std::string type_of(const NodePtr& n) {
  const NodePtr t = n->kind == Config::Kind::kMap ? n->find("type") : nullptr;
  return t && t->kind == Config::Kind::kScalar ? t->scalar : std::string();
}

bool wants_delete(const NodePtr& n) {
  const NodePtr d = n->kind == Config::Kind::kMap ? n->find("_delete_") : nullptr;
  return d && d->kind == Config::Kind::kScalar && (d->scalar == "true" || d->scalar == "True");
}

// Merges `over` onto `base` (in place, on a copy owned by the caller).
NodePtr merge(const NodePtr& base, const NodePtr& over) {
  const bool replace = base->kind != Config::Kind::kMap || over->kind != Config::Kind::kMap || wants_delete(over) ||
                       (!type_of(over).empty() && type_of(over) != type_of(base));
  if (replace) {
    NodePtr r = deep_copy(over);
    if (r->kind == Config::Kind::kMap) r->erase("_delete_");
    return r;
  }
  NodePtr r = deep_copy(base);
  for (const auto& [key, value] : over->entries) {
    bool found = false;
    for (auto& e : r->entries) {
      if (e.first == key) {
        e.second = merge(e.second, value);
        found = true;
      }
    }
    if (!found) r->entries.emplace_back(key, deep_copy(value));
  }
  return r;
}

NodePtr load_with_bases(const fs::path& file, std::vector<fs::path>& stack);

NodePtr resolve_bases(NodePtr root, const fs::path& base_dir, const std::string& source,
                      std::vector<fs::path>& stack) {
  if (root->kind != Config::Kind::kMap) return root;
  const NodePtr bases = root->find("_base_");
  if (!bases) return root;
  std::vector<std::string> paths;
  if (bases->kind == Config::Kind::kScalar) {
    paths.push_back(bases->scalar);
  } else if (bases->kind == Config::Kind::kSequence) {
    for (const auto& item : bases->items) {
      if (item->kind != Config::Kind::kScalar) throw InputError(source, "_base_", "expected a path or a list of paths");
      paths.push_back(item->scalar);
    }
  } else {
    throw InputError(source, "_base_", "expected a path or a list of paths");
  }
  root->erase("_base_");
  if (paths.empty()) return root;  // `_base_: []` (found by the yaml_config fuzz target: merge of nothing)
  NodePtr merged;
  for (const std::string& p : paths) {
    const NodePtr b = load_with_bases(base_dir / p, stack);
    merged = merged ? merge(merged, b) : b;
  }
  return merge(merged, root);
}

NodePtr load_with_bases(const fs::path& file, std::vector<fs::path>& stack) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(file, ec);
  if (std::find(stack.begin(), stack.end(), canonical) != stack.end())
    throw InputError(file.string(), "_base_", "inheritance cycle");
  if (!fs::is_regular_file(file, ec))  // the error_code form: a name too long for the OS is "not found" too
    throw InputError(file.string(), "", "config file not found" + (ec ? " (" + ec.message() + ")" : std::string()));
  stack.push_back(canonical);
  NodePtr root = parse_yaml(read_file(file), file.string());
  root = resolve_bases(root, file.parent_path(), file.string(), stack);
  stack.pop_back();
  return root;
}

void mark_all(const NodePtr& n) {
  n->consumed = true;
  for (const auto& item : n->items) mark_all(item);
  for (const auto& e : n->entries) mark_all(e.second);
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

void collect_unconsumed(const NodePtr& n, const std::string& path, std::vector<std::pair<std::string, std::string>>& out) {
  auto join = [&](const std::string& k) { return path.empty() ? k : path + "." + k; };
  if (n->kind == Config::Kind::kMap) {
    for (const auto& [key, child] : n->entries) {
      if (!child->consumed) {
        std::string hint;
        size_t best = 3;  // suggest only close spellings
        for (const std::string& q : n->queried) {
          if (n->find(q)) continue;
          const size_t d = edit_distance(key, q);
          if (d < best) best = d, hint = q;
        }
        out.emplace_back(child->file, join(key) + (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      } else {
        collect_unconsumed(child, join(key), out);
      }
    }
  } else if (n->kind == Config::Kind::kSequence) {
    for (size_t i = 0; i < n->items.size(); ++i)
      if (n->items[i]->consumed) collect_unconsumed(n->items[i], path + "[" + std::to_string(i) + "]", out);
  }
}

void emit(YAML::Emitter& out, const NodePtr& n) {
  switch (n->kind) {
    case Config::Kind::kNull:
      out << YAML::Null;
      break;
    case Config::Kind::kScalar:
      if (n->quoted) out << YAML::DoubleQuoted;
      out << n->scalar;
      break;
    case Config::Kind::kSequence:
      out << YAML::BeginSeq;
      for (const auto& item : n->items) emit(out, item);
      out << YAML::EndSeq;
      break;
    case Config::Kind::kMap:
      out << YAML::BeginMap;
      for (const auto& [k, v] : n->entries) {
        out << YAML::Key << k << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
  }
}

// Splits "a.b[2].c" into {"a", "b", "[2]", "c"}.
std::vector<std::string> split_key(const std::string& dotted) {
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 0; i < dotted.size(); ++i) {
    const char c = dotted[i];
    if (c == '.') {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else if (c == '[') {
      if (!cur.empty()) parts.push_back(cur);
      const size_t close = dotted.find(']', i);
      if (close == std::string::npos) throw InputError("--set", dotted, "unbalanced '['");
      parts.push_back(dotted.substr(i, close - i + 1));
      cur.clear();
      i = close;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

}  // namespace

Config::Config() : node_(std::make_shared<ConfigNode>()) {
  node_->kind = Kind::kMap;
  node_->file = "<empty>";
}

Config::Config(NodePtr node, std::string path) : node_(std::move(node)), path_(std::move(path)) {}

Config Config::load(const fs::path& file) {
  std::vector<fs::path> stack;
  return Config(load_with_bases(file, stack), "");
}

Config Config::parse(const std::string& yaml, const std::string& source, const fs::path& base_dir) {
  std::vector<fs::path> stack;
  NodePtr root = parse_yaml(yaml, source);
  if (root->kind == Kind::kNull) {
    root->kind = Kind::kMap;
  }
  return Config(resolve_bases(root, base_dir, source, stack), "");
}

void Config::set(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set", assignment, "expected key=value (e.g. detector.postprocess.nms_iou=0.5)");
  set(assignment.substr(0, eq), assignment.substr(eq + 1));
}

void Config::set(const std::string& dotted_key, const std::string& yaml_value) {
  NodePtr value;
  if (!yaml_value.empty() && yaml_value[0] == '@') {
    std::vector<fs::path> stack;
    value = load_with_bases(yaml_value.substr(1), stack);
  } else {
    value = parse_yaml(yaml_value, "--set " + dotted_key);
  }
  const std::vector<std::string> parts = split_key(dotted_key);
  if (parts.empty()) throw InputError("--set", dotted_key, "empty key");
  NodePtr cur = node_;
  std::string walked = path_;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    if (part[0] == '[') {
      if (cur->kind != Kind::kSequence) throw InputError("--set", walked, "not a list, cannot index " + part);
      char* end = nullptr;
      const long idx = std::strtol(part.c_str() + 1, &end, 10);
      if (*end != ']' || idx < 0 || static_cast<size_t>(idx) >= cur->items.size())
        throw InputError("--set", walked + part, "index out of range (list has " + std::to_string(cur->items.size()) + " items)");
      if (last)
        cur->items[idx] = value;
      else
        cur = cur->items[idx];
      walked += part;
      continue;
    }
    if (cur->kind == Kind::kNull) cur->kind = Kind::kMap;
    if (cur->kind != Kind::kMap) throw InputError("--set", walked, "is not a map, cannot set '" + part + "'");
    walked = walked.empty() ? part : walked + "." + part;
    NodePtr next = cur->find(part);
    if (last) {
      if (next) {
        for (auto& e : cur->entries)
          if (e.first == part) e.second = value;
      } else {
        cur->entries.emplace_back(part, value);
      }
    } else {
      if (!next) {
        next = std::make_shared<ConfigNode>();
        next->kind = Kind::kMap;
        next->file = "--set";
        cur->entries.emplace_back(part, next);
      }
      cur = next;
    }
  }
}

void Config::apply_overrides(const std::vector<std::string>& assignments) {
  for (const std::string& a : assignments) set(a);
}

Config::Kind Config::kind() const { return node_->kind; }

std::vector<std::string> Config::keys() const {
  std::vector<std::string> k;
  for (const auto& e : node_->entries) k.push_back(e.first);
  return k;
}

bool Config::has(const std::string& key) const {
  node_->queried.insert(key);
  return node_->kind == Kind::kMap && node_->find(key) != nullptr;
}

Config Config::child(const std::string& key) const {
  node_->queried.insert(key);
  if (node_->kind != Kind::kMap) throw InputError(file(), path_.empty() ? key : path_, "expected a map");
  NodePtr c = node_->find(key);
  if (!c) throw InputError(file(), child_path(key), "missing required key");
  c->consumed = true;
  return Config(c, child_path(key));
}

size_t Config::size() const { return node_->kind == Kind::kSequence ? node_->items.size() : 0; }

Config Config::at(size_t index) const {
  if (node_->kind != Kind::kSequence) type_error("a list");
  if (index >= node_->items.size()) throw InputError(file(), path_, "index " + std::to_string(index) + " out of range");
  node_->items[index]->consumed = true;
  return Config(node_->items[index], path_ + "[" + std::to_string(index) + "]");
}

const std::string& Config::file() const { return node_->file; }

std::string Config::child_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

void Config::type_error(const char* expected) const {
  std::string got = node_->kind == Kind::kScalar ? "'" + node_->scalar + "'"
                    : node_->kind == Kind::kMap  ? "a map"
                    : node_->kind == Kind::kNull ? "null"
                                                 : "a list";
  throw InputError(file(), path_, std::string("expected ") + expected + ", got " + got);
}

std::string Config::scalar_text(const char* expected) const {
  if (node_->kind != Kind::kScalar) type_error(expected);
  node_->consumed = true;
  return node_->scalar;
}

template <>
bool Config::as<bool>() const {
  const std::string s = scalar_text("true or false");
  if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off") return false;
  type_error("true or false");
}

template <>
int64_t Config::as<int64_t>() const {
  const std::string s = scalar_text("an integer");
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE) type_error("an integer");
  return v;
}

template <>
int Config::as<int>() const {
  const int64_t v = as<int64_t>();
  if (v < INT_MIN || v > INT_MAX) type_error("an integer in the int range");
  return static_cast<int>(v);
}

template <>
double Config::as<double>() const {
  std::string s = scalar_text("a number");
  if (s == ".inf" || s == "+.inf") return INFINITY;
  if (s == "-.inf") return -INFINITY;
  if (s == ".nan") return NAN;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno == ERANGE) type_error("a number");
  return v;
}

template <>
float Config::as<float>() const {
  return static_cast<float>(as<double>());
}

template <>
std::string Config::as<std::string>() const {
  if (node_->kind == Kind::kNull) {
    node_->consumed = true;
    return std::string();
  }
  return scalar_text("a string");
}

namespace {
template <class T>
std::vector<T> as_vector(const Config& c) {
  std::vector<T> out;
  if (!c.is_sequence()) {
    // A scalar where a list is expected: reported with the list wording.
    (void)c.at(0);
  }
  for (size_t i = 0; i < c.size(); ++i) out.push_back(c.at(i).as<T>());
  return out;
}
}  // namespace

template <>
std::vector<int> Config::as<std::vector<int>>() const { node_->consumed = true; return as_vector<int>(*this); }
template <>
std::vector<int64_t> Config::as<std::vector<int64_t>>() const { node_->consumed = true; return as_vector<int64_t>(*this); }
template <>
std::vector<float> Config::as<std::vector<float>>() const { node_->consumed = true; return as_vector<float>(*this); }
template <>
std::vector<double> Config::as<std::vector<double>>() const { node_->consumed = true; return as_vector<double>(*this); }
template <>
std::vector<std::string> Config::as<std::vector<std::string>>() const { node_->consumed = true; return as_vector<std::string>(*this); }
template <>
std::vector<bool> Config::as<std::vector<bool>>() const { node_->consumed = true; return as_vector<bool>(*this); }
template <>
std::vector<std::vector<float>> Config::as<std::vector<std::vector<float>>>() const {
  node_->consumed = true;
  return as_vector<std::vector<float>>(*this);
}

void Config::expect_consumed() const {
  std::vector<std::pair<std::string, std::string>> unknown;
  collect_unconsumed(node_, path_, unknown);
  if (unknown.empty()) return;
  std::string fields;
  for (size_t i = 0; i < unknown.size(); ++i) fields += (i ? ", " : "") + unknown[i].second;
  throw InputError(unknown.front().first, fields, unknown.size() == 1 ? "unknown key" : "unknown keys");
}

void Config::mark_consumed() const { mark_all(node_); }

std::string Config::dump() const {
  YAML::Emitter out;
  emit(out, node_);
  return out.c_str();
}

std::string Config::hash() const {
  return fnv1a_hex(dump());
}

Config Config::clone() const { return Config(deep_copy(node_), path_); }

}  // namespace detlab
