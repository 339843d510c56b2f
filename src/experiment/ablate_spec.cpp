// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Ablation spec parsing, grid expansion and sharding.
#include "experiment/ablate_spec.h"

#include <algorithm>
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

/// `rows: [{label: "FT fc7", set: ["key=value", ...]}, ...]`: one axis whose values are the labels. A row may
/// start from its own experiment config (`base:`), so that one table compares families (YOLO vs Fast R-CNN).
GridAxis parse_rows(const Config& node) {
  if (!node.is_sequence() || node.size() == 0)
    throw InputError(node.file(), node.path(), "expected a non-empty list of {label, set: [key=value, ...]}");
  GridAxis axis;
  axis.key = "row";
  std::set<std::string> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    const Config r = node.at(i);
    if (!r.is_map() || !r.has("label") || !r.has("set"))
      throw InputError(r.file(), r.path(), "expected {label: NAME, base: CONFIG (optional), set: [key=value, ...]}");
    for (const std::string& k : r.keys())
      if (k != "label" && k != "set" && k != "base")
        throw InputError(r.file(), r.child_path(k), "unknown key (expected label, base, set)");
    const std::string base = r.get<std::string>("base", "");
    if (!base.empty() && !fs::exists(base)) throw InputError(r.file(), r.child_path("base"), "no such config: " + base);
    const std::string label = r.get<std::string>("label");
    if (label.empty() || !seen.insert(label).second)
      throw InputError(r.file(), r.child_path("label"), "must be non-empty and unique among the rows");
    std::vector<std::string> set = r.get<std::vector<std::string>>("set");
    for (const std::string& o : set)
      if (o.find('=') == std::string::npos || o.front() == '=')
        throw InputError(r.file(), r.child_path("set"), "expected key=value overrides, got '" + o + "'");
    axis.values.push_back(label);
    axis.row_sets.push_back(std::move(set));
    axis.row_bases.push_back(base);
  }
  return axis;
}

/// The quick preset: the first `values` of each axis, one seed unless the preset names them, its own folder.
void apply_quick(AblationSpec& spec, int values, const std::vector<uint64_t>& seeds) {
  for (GridAxis& a : spec.axes) {
    const size_t n = std::min(a.values.size(), static_cast<size_t>(values));
    a.values.resize(n);
    if (a.is_rows()) a.row_sets.resize(n), a.row_bases.resize(n);
  }
  spec.seeds = seeds.empty() ? std::vector<uint64_t>{spec.seeds.front()} : seeds;
  spec.name += "_quick";
  spec.quick = true;
}

}  // namespace

std::vector<std::string> GridAxis::labels() const {
  std::vector<std::string> out;
  for (const std::string& v : values) out.push_back(is_rows() ? v : value_label(v));
  return out;
}

std::vector<std::string> GridAxis::overrides_of(size_t i) const {
  DETLAB_REQUIRE(i < values.size(), "axis value index out of range", i, values.size());
  if (is_rows()) return row_sets[i];
  return {key + "=" + values[i]};
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

AblationSpec load_ablation_spec(const fs::path& file, bool quick) {
  if (!fs::exists(file)) throw InputError(file.string(), "", "not found");
  const Config root = Config::load(file);
  AblationSpec spec;
  spec.file = file;
  if (!root.is_map() || !root.has("base")) {
    // A plain experiment config: the base itself, the grid comes from the command line.
    spec.base = file;
    spec.name = slugify(file.stem().string()) + "_ablation";
    root.mark_consumed();
    if (quick) apply_quick(spec, 1, {});
    return spec;
  }
  static const std::set<std::string> known = {"name",      "description", "base",   "set",   "rows", "grid",
                                              "seeds",     "eval_only",   "paper",  "claims", "quick"};
  for (const std::string& k : root.keys())
    if (!known.count(k))
      throw InputError(root.file(), k,
                       "unknown key (expected name, description, base, set, rows, grid, seeds, eval_only, paper, "
                       "claims, quick)");
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
  if (root.has("rows")) add_axis(spec, parse_rows(root.child("rows")));
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
  if (root.has("quick")) {
    const Config q = root.child("quick");
    if (!q.is_map()) throw InputError(q.file(), q.path(), "expected a map {set, seeds, values}");
    for (const std::string& k : q.keys())
      if (k != "set" && k != "seeds" && k != "values")
        throw InputError(q.file(), q.child_path(k), "unknown key (expected set, seeds, values)");
    const std::vector<std::string> set = q.get<std::vector<std::string>>("set", {});
    const std::vector<uint64_t> seeds = q.has("seeds") ? read_seeds(q.child("seeds")) : std::vector<uint64_t>{};
    const int values = q.get<int>("values", 1);
    if (values < 1) throw InputError(q.file(), q.child_path("values"), "must be >= 1");
    if (quick) {
      spec.quick_set = set;
      apply_quick(spec, values, seeds);
    }
  } else if (quick) {
    apply_quick(spec, 1, {});
  }
  root.expect_consumed();
  return spec;
}

std::vector<std::string> GridPoint::overrides() const {
  std::vector<std::string> o;
  for (size_t a = 0; a < value_index.size(); ++a)
    for (std::string& x : spec->axes[a].overrides_of(value_index[a])) o.push_back(std::move(x));
  return o;
}

fs::path GridPoint::base() const {
  for (size_t a = 0; a < value_index.size(); ++a) {
    const GridAxis& axis = spec->axes[a];
    if (axis.is_rows() && !axis.row_bases[value_index[a]].empty()) return axis.row_bases[value_index[a]];
  }
  return spec->base;
}

std::vector<std::string> GridPoint::all_overrides(const std::vector<std::string>& extra) const {
  std::vector<std::string> o = spec->set;
  for (std::string& x : overrides()) o.push_back(std::move(x));
  o.insert(o.end(), spec->quick_set.begin(), spec->quick_set.end());
  o.insert(o.end(), extra.begin(), extra.end());
  return o;
}

std::vector<GridPoint> grid_points(const AblationSpec& spec) {
  std::vector<std::vector<size_t>> settings = {{}};  // value indices, one per axis
  for (const GridAxis& axis : spec.axes) {
    std::vector<std::vector<size_t>> next;
    for (const auto& s : settings)
      for (size_t v = 0; v < axis.values.size(); ++v) {
        next.push_back(s);
        next.back().push_back(v);
      }
    settings = std::move(next);
  }
  std::vector<GridPoint> points;
  for (const auto& idx : settings) {
    std::string setting, overrides_text, group_text;
    std::vector<std::string> s;
    for (size_t a = 0; a < idx.size(); ++a) {
      const GridAxis& axis = spec.axes[a];
      s.push_back(axis.values[idx[a]]);
      setting += (a ? "_" : "") + slugify(axis.column) + "=" + slugify(axis.labels()[idx[a]]);
      if (axis.is_rows() && !axis.row_bases[idx[a]].empty()) {  // another base: another model and folder
        overrides_text += "base=" + axis.row_bases[idx[a]] + "\n";
        group_text += "base=" + axis.row_bases[idx[a]] + "\n";
      }
      for (const std::string& o : axis.overrides_of(idx[a])) {
        overrides_text += o + "\n";
        if (!is_eval_only(o.substr(0, o.find('=')), spec.eval_only)) group_text += o + "\n";
      }
    }
    if (setting.empty()) setting = "base";
    for (uint64_t seed : spec.seeds) {
      GridPoint p;
      p.index = static_cast<int>(points.size());
      p.values = s;
      p.value_index = idx;
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
