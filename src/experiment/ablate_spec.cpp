// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Ablation spec parsing, grid expansion and sharding.
#include "experiment/ablate_spec.h"

#include <cstdio>
#include <map>
#include <set>

#include "config/config.h"
#include "core/error.h"
#include "core/hash.h"
#include "experiment/compare_spec.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

std::string fnv8(const std::string& text) {
  return fnv1a_hex(text).substr(0, 8);  // 32 bits tell a grid's points apart
}

std::string value_label(const std::string& v) {
  if (!v.empty() && v[0] == '@') return fs::path(v.substr(1)).stem().string();
  return v;
}

bool is_eval_only(const std::string& key, const std::vector<std::string>& eval_only) {
  for (const std::string& e : eval_only)
    if (key == e || key.rfind(e + ".", 0) == 0) return true;
  return false;
}

void update_columns(AblationSpec& spec) {
  std::map<std::string, int> count;
  auto last = [](const std::string& key) {
    const size_t dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(dot + 1);
  };
  for (const GridAxis& a : spec.axes) ++count[last(a.key)];
  for (GridAxis& a : spec.axes) a.column = count[last(a.key)] > 1 ? a.key : last(a.key);
}

std::vector<uint64_t> read_seeds(const Config& node) {
  std::vector<uint64_t> seeds;
  if (node.is_scalar()) {
    const int n = node.as<int>();
    if (n < 1) throw InputError(node.file(), node.path(), "must be >= 1 (a count) or a list of seeds");
    for (int i = 0; i < n; ++i) seeds.push_back(static_cast<uint64_t>(i));
    return seeds;
  }
  for (int64_t s : node.as<std::vector<int64_t>>()) {
    if (s < 0) throw InputError(node.file(), node.path(), "seeds must be >= 0");
    seeds.push_back(static_cast<uint64_t>(s));
  }
  if (seeds.empty()) throw InputError(node.file(), node.path(), "needs at least one seed");
  return seeds;
}

}  // namespace

std::vector<std::string> GridAxis::labels() const {
  std::vector<std::string> out;
  for (const std::string& v : values) out.push_back(value_label(v));
  return out;
}

GridAxis parse_grid_arg(const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--grid", arg, "expected key=v1,v2,... (e.g. detector.postprocess.nms_iou=0.3,0.5,0.7)");
  GridAxis axis;
  axis.key = arg.substr(0, eq);
  const std::string rest = arg.substr(eq + 1);
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (char c : rest) {
    if (quote) {
      if (c == quote) quote = 0;
      cur += c;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      axis.values.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  axis.values.push_back(cur);
  for (const std::string& v : axis.values)
    if (v.empty()) throw InputError("--grid", arg, "empty value (two commas in a row, or a trailing comma)");
  return axis;
}

void add_axis(AblationSpec& spec, GridAxis axis) {
  for (GridAxis& a : spec.axes)
    if (a.key == axis.key) {
      a = std::move(axis);
      update_columns(spec);
      return;
    }
  spec.axes.push_back(std::move(axis));
  update_columns(spec);
}

AblationSpec load_ablation_spec(const fs::path& file) {
  if (!fs::exists(file)) throw InputError(file.string(), "", "not found");
  const Config root = Config::load(file);
  AblationSpec spec;
  spec.file = file;
  if (!root.is_map() || !root.has("base")) {
    // A plain experiment config: the base itself, the grid comes from the command line.
    spec.base = file;
    spec.name = slugify(file.stem().string()) + "_ablation";
    root.mark_consumed();
    return spec;
  }
  static const std::set<std::string> known = {"name", "description", "base",  "set",  "grid",
                                              "seeds", "eval_only",   "paper", "claims"};
  for (const std::string& k : root.keys())
    if (!known.count(k))
      throw InputError(root.file(), k,
                       "unknown key (expected name, description, base, set, grid, seeds, eval_only, paper, claims)");
  spec.resolved_yaml = root.dump();
  spec.base = root.get<std::string>("base");
  spec.name = root.get<std::string>("name", slugify(file.stem().string()));
  if (spec.name.empty() || slugify(spec.name) != spec.name)
    throw InputError(root.file(), "name", "must be a folder name of lower-case letters, digits and '_'");
  spec.description = root.get<std::string>("description", "");
  if (root.has("set")) spec.set = root.get<std::vector<std::string>>("set");
  if (root.has("eval_only")) spec.eval_only = root.get<std::vector<std::string>>("eval_only");
  if (root.has("seeds")) spec.seeds = read_seeds(root.child("seeds"));
  if (root.has("paper")) spec.paper = parse_paper(root.child("paper"));
  if (root.has("claims")) spec.claims = parse_claims(root.child("claims"));
  if (root.has("grid")) {
    const Config grid = root.child("grid");
    if (!grid.is_map()) throw InputError(grid.file(), grid.path(), "expected a map {dotted.key: [values]}");
    for (const std::string& key : grid.keys()) {
      const Config values = grid.child(key);
      if (!values.is_sequence() || values.size() == 0)
        throw InputError(values.file(), values.path(), "expected a non-empty list of values");
      GridAxis axis;
      axis.key = key;
      for (size_t i = 0; i < values.size(); ++i) {
        const Config v = values.at(i);
        axis.values.push_back(v.is_scalar() ? v.as<std::string>() : v.dump());
        v.mark_consumed();
      }
      add_axis(spec, axis);
    }
  }
  root.expect_consumed();
  return spec;
}

std::vector<std::string> GridPoint::overrides() const {
  std::vector<std::string> o;
  for (size_t a = 0; a < values.size(); ++a) o.push_back(spec->axes[a].key + "=" + values[a]);
  return o;
}

std::vector<GridPoint> grid_points(const AblationSpec& spec) {
  std::vector<std::vector<std::string>> settings = {{}};
  for (const GridAxis& axis : spec.axes) {
    std::vector<std::vector<std::string>> next;
    for (const auto& s : settings)
      for (const std::string& v : axis.values) {
        next.push_back(s);
        next.back().push_back(v);
      }
    settings = std::move(next);
  }
  std::vector<GridPoint> points;
  for (const auto& s : settings) {
    std::string setting, overrides_text, group_text;
    for (size_t a = 0; a < s.size(); ++a) {
      setting += (a ? "_" : "") + slugify(spec.axes[a].column) + "=" + slugify(value_label(s[a]));
      overrides_text += spec.axes[a].key + "=" + s[a] + "\n";
      if (!is_eval_only(spec.axes[a].key, spec.eval_only)) group_text += spec.axes[a].key + "=" + s[a] + "\n";
    }
    if (setting.empty()) setting = "base";
    for (uint64_t seed : spec.seeds) {
      GridPoint p;
      p.index = static_cast<int>(points.size());
      p.values = s;
      p.seed = seed;
      p.setting = setting;
      const std::string seed_text = "seed=" + std::to_string(seed);
      // Slugs of different values can coincide ("0.5" and "0_5"); the hash keeps folders distinct.
      p.slug = setting + "_seed" + std::to_string(seed) + "_" + fnv8(overrides_text + seed_text);
      p.model_group = "model_" + fnv8(group_text + seed_text);
      p.spec = &spec;
      points.push_back(p);
    }
  }
  return points;
}

std::vector<GridPoint> shard_points(const std::vector<GridPoint>& points, int i, int n) {
  DETLAB_REQUIRE(n >= 1 && i >= 0 && i < n, "shard index out of range", i, n);
  std::map<std::string, int> group_index;  // model group -> its position among groups, in grid order
  std::vector<GridPoint> out;
  for (const GridPoint& p : points) {
    auto it = group_index.emplace(p.model_group, static_cast<int>(group_index.size())).first;
    if (it->second % n == i) out.push_back(p);
  }
  return out;
}

std::pair<int, int> parse_shard(const std::string& text) {
  int i = -1, n = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%d/%d%c", &i, &n, &tail) != 2 || n < 1 || i < 0 || i >= n)
    throw InputError("--shard", text, "expected i/n with 0 <= i < n (e.g. 0/4 ... 3/4)");
  return {i, n};
}

}  // namespace detlab
