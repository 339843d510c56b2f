// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// run_ablation (one shard of the grid) and collect_ablation (tables with confidence intervals).
#include "experiment/ablate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "config/config.h"
#include "eval/error_breakdown.h"
#include "experiment/claims.h"
#include "experiment/error_shares.h"
#include "experiment/manifest.h"
#include "experiment/plots.h"
#include "experiment/run_config.h"
#include "experiment/stats.h"

namespace detlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kAblationFormatVersion = 1;

std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

json read_json(const fs::path& file) {
  try {
    return json::parse(read_file(file));
  } catch (const json::exception& e) {
    throw InputError(file.string(), "", std::string("not valid JSON: ") + e.what());
  }
}

/// The grid definition: identical from every shard of the same spec.
json grid_json(const AblationSpec& spec, const std::vector<GridPoint>& points, const AblateOptions& opts) {
  json j;
  j["format_version"] = kAblationFormatVersion;
  j["name"] = spec.name;
  j["description"] = spec.description;
  j["spec_file"] = spec.file.generic_string();
  j["spec"] = spec.resolved_yaml;
  j["base"] = spec.base.generic_string();
  j["set"] = spec.set;
  j["quick_set"] = spec.quick_set;
  j["overrides"] = opts.overrides;
  j["eval_only"] = spec.eval_only;
  j["seeds"] = spec.seeds;
  j["axes"] = json::array();
  for (const GridAxis& a : spec.axes)
    j["axes"].push_back({{"key", a.key}, {"column", a.column}, {"values", a.values}, {"labels", a.labels()}});
  j["points"] = json::array();
  for (const GridPoint& p : points) {
    std::vector<std::string> labels;
    for (size_t a = 0; a < p.value_index.size(); ++a) labels.push_back(spec.axes[a].labels()[p.value_index[a]]);
    j["points"].push_back({{"index", p.index}, {"slug", p.slug}, {"setting", p.setting}, {"values", p.values},
                           {"labels", labels}, {"seed", p.seed}, {"model_group", p.model_group},
                           {"base", p.base().generic_string()}, {"overrides", p.overrides()}});
  }
  return j;
}

struct MetricDef {
  const char* key;     // results.json / CSV column stem
  const char* header;  // table header
  int decimals;
};

const std::vector<MetricDef>& ablation_metrics() {
  static const std::vector<MetricDef> m = {{"AP", "AP", 3},           {"AP50", "AP50", 3},
                                           {"AP75", "AP75", 3},       {"AR100", "AR100", 3},
                                           {"VOC07", "VOC07 mAP", 3}, {"ms_per_image", "ms/img", 1},
                                           {"train_seconds", "train s", 1}};
  return m;
}

double metric_of(const RunOutcome& o, const std::string& key) {
  const double nan = std::nan("");
  if (key == "VOC07") return o.metrics.voc07 ? o.metrics.voc07->map : nan;
  if (key == "ms_per_image") return o.metrics.ms_per_image;
  if (key == "train_seconds") return o.train_seconds;
  const double v = o.metrics.coco ? o.metrics.coco_stat(key) : nan;
  return v < 0 ? nan : v;  // pycocotools' -1: no ground truth in that area range
}

}  // namespace

fs::path default_ablation_dir(const AblationSpec& spec) { return fs::path("results/runs") / spec.name; }

AblationRunResult run_ablation(const AblationSpec& spec, const AblateOptions& opts) {
  const std::string started = iso_time_utc(std::chrono::system_clock::now());
  AblationRunResult result;
  result.out_dir = opts.out_dir.empty() ? default_ablation_dir(spec) : opts.out_dir;
  fs::create_directories(result.out_dir);
  const std::vector<GridPoint> all = grid_points(spec);
  write_file_atomic(result.out_dir / "ablation.json", grid_json(spec, all, opts).dump(2) + "\n");
  const std::vector<GridPoint> mine = shard_points(all, opts.shard_index, opts.shard_count);

  std::set<std::string> retrained;  // with --retrain, each model group is trained once per invocation
  int done = 0;
  for (const GridPoint& p : mine) {
    ++done;
    std::cerr << "== point " << done << "/" << mine.size() << ": " << p.setting << ", seed " << p.seed << "\n";
    PointResult pr;
    pr.point = p;
    const fs::path dir = result.out_dir / "points" / p.slug;
    try {
      const RunConfig rc = load_run_config(p.base(), p.all_overrides(opts.overrides));
      CachedRunOptions co;
      co.dir = dir;
      co.model_dir = result.out_dir / "models" / p.model_group;
      co.seed = p.seed;
      co.threads = opts.threads;
      co.device = opts.device;
      co.eval_only = spec.eval_only;
      co.retrain = opts.retrain && !retrained.count(p.model_group);
      co.reuse_stale = opts.reuse_stale;
      if (co.retrain) retrained.insert(p.model_group);
      fs::remove(dir / "error.json");
      pr.outcome = run_cached(rc, co);
      write_file_atomic(dir / "config.yaml", rc.root.dump() + "\n");
      pr.ok = true;
      if (pr.outcome.trained) ++result.trained;
      if (pr.outcome.evaluated) ++result.evaluated;
      if (!pr.outcome.trained && !pr.outcome.evaluated) ++result.reused;
      std::cerr << "   " << describe_outcome(pr.outcome) << ": AP " << format_fixed(metric_of(pr.outcome, "AP"), 3)
                << "\n";
    } catch (const std::exception& ex) {
      pr.error = one_line(ex.what());
      pr.input_error = dynamic_cast<const InputError*>(&ex) != nullptr;
      result.any_input_error = result.any_input_error || pr.input_error;
      ++result.failed;
      std::cerr << "   failed: " << pr.error << "\n";
      fs::create_directories(dir);
      json e = {{"format_version", 1}, {"slug", p.slug}, {"error", pr.error}, {"input_error", pr.input_error}};
      write_file_atomic(dir / "error.json", e.dump(2) + "\n");
    }
    result.points.push_back(pr);
  }

  json shard;
  shard["format_version"] = 1;
  shard["shard"] = std::to_string(opts.shard_index) + "/" + std::to_string(opts.shard_count);
  shard["command_line"] = opts.command_line;
  shard["started"] = started;
  shard["finished"] = iso_time_utc(std::chrono::system_clock::now());
  shard["environment"] = json::parse(environment_json(probe_environment()));
  shard["device"] = opts.device;
  shard["threads"] = opts.threads;
  shard["points"] = json::array();
  for (const PointResult& pr : result.points)
    shard["points"].push_back({{"slug", pr.point.slug}, {"ok", pr.ok}, {"error", pr.error},
                               {"trained", pr.ok && pr.outcome.trained}, {"evaluated", pr.ok && pr.outcome.evaluated}});
  fs::create_directories(result.out_dir / "shards");
  write_file_atomic(result.out_dir / "shards" /
                        ("shard_" + std::to_string(opts.shard_index) + "_of_" + std::to_string(opts.shard_count) + ".json"),
                    shard.dump(2) + "\n");
  return result;
}

std::vector<PointResult> dry_run_ablation(const AblationSpec& spec, const AblateOptions& opts) {
  const fs::path out_dir = opts.out_dir.empty() ? default_ablation_dir(spec) : opts.out_dir;
  const std::vector<GridPoint> all = grid_points(spec);
  std::vector<PointResult> results;
  for (const GridPoint& p : shard_points(all, opts.shard_index, opts.shard_count)) {
    PointResult pr;
    pr.point = p;
    try {
      const RunConfig rc = load_run_config(p.base(), p.all_overrides(opts.overrides));
      build_detector(rc);
      pr.ok = true;
      pr.outcome.keys = run_keys(rc, p.seed, spec.eval_only, "test", opts.threads, opts.device);
      pr.outcome.evaluated = !run_is_cached(out_dir / "points" / p.slug, pr.outcome.keys);  // still to do
    } catch (const std::exception& ex) {
      pr.error = one_line(ex.what());
      pr.input_error = dynamic_cast<const InputError*>(&ex) != nullptr;
    }
    results.push_back(pr);
  }
  return results;
}

AblationCollectResult collect_ablation(const fs::path& out_dir, const CollectOptions& opts) {
  const fs::path grid_file = out_dir / "ablation.json";
  if (!fs::exists(grid_file))
    throw InputError(out_dir.string(), "ablation.json", "not found (run detlab ablate on this grid first)");
  const json grid = read_json(grid_file);
  if (grid.value("format_version", 0) != kAblationFormatVersion)
    throw InputError(grid_file.string(), "format_version", "unknown version");
  AblationCollectResult res;
  res.out_dir = out_dir;

  // Settings in grid order, each with its finished points.
  struct Setting {
    std::vector<std::string> labels, values;
    std::vector<uint64_t> seeds;
    std::vector<RunOutcome> runs;
  };
  std::vector<Setting> settings;
  std::map<std::string, size_t> setting_index;
  json points_manifest = json::array();
  for (const json& p : grid.at("points")) {
    ++res.points;
    const std::string setting = p.at("setting").get<std::string>();
    auto [it, fresh] = setting_index.emplace(setting, settings.size());
    if (fresh) {
      Setting s;
      s.labels = p.at("labels").get<std::vector<std::string>>();
      s.values = p.at("values").get<std::vector<std::string>>();
      settings.push_back(s);
    }
    const std::string slug = p.at("slug").get<std::string>();
    const fs::path dir = out_dir / "points" / slug;
    json pm = {{"slug", slug}, {"seed", p.at("seed")}, {"overrides", p.at("overrides")}};
    if (fs::exists(dir / "run.json")) {
      RunOutcome o = read_run_outcome(dir);
      pm["train_key"] = o.keys.train;
      pm["eval_key"] = o.keys.eval;
      pm["status"] = "ok";
      settings[it->second].seeds.push_back(p.at("seed").get<uint64_t>());
      settings[it->second].runs.push_back(std::move(o));
      ++res.finished;
    } else {
      std::string why = "not run yet";
      if (fs::exists(dir / "error.json")) why = read_json(dir / "error.json").value("error", "failed");
      res.missing.push_back(slug + ": " + why);
      pm["status"] = "missing";
      pm["error"] = why;
    }
    points_manifest.push_back(pm);
  }

  const auto& axes = grid.at("axes");
  const size_t n_seeds = grid.at("seeds").size();
  // The paper column and the claims come from the spec as it was run (a grid from the command line has none).
  PaperColumn paper;
  std::vector<Claim> claims;
  const std::string spec_yaml = grid.value("spec", std::string());
  if (!spec_yaml.empty()) {
    const Config spec = Config::parse(spec_yaml, (out_dir / "ablation.json").string() + " (spec)");
    if (spec.has("paper")) paper = parse_paper(spec.child("paper"));
    if (spec.has("claims")) claims = parse_claims(spec.child("claims"));
    spec.mark_consumed();
  }
  const std::vector<uint64_t> grid_seeds = grid.at("seeds").get<std::vector<uint64_t>>();
  auto row_label = [](const std::vector<std::string>& labels) {
    std::string s;
    for (const std::string& l : labels) s += (s.empty() ? "" : ", ") + l;
    return s;
  };
  SeedValues seed_values;
  Table display, data;
  display.caption = "Ablation " + grid.value("name", std::string()) + ": mean \xC2\xB1 sample std over " +
                    std::to_string(n_seeds) + " seed(s) [95 % percentile-bootstrap CI of the mean, 10,000 resamples]";
  for (const json& a : axes) {
    display.header.push_back(a.at("column").get<std::string>());
    data.header.push_back(a.at("column").get<std::string>());
  }
  display.header.push_back("seeds");
  data.header.push_back("seeds");
  for (const MetricDef& m : ablation_metrics()) {
    display.header.push_back(m.header);
    for (const char* suffix : {"_mean", "_std", "_ci_lo", "_ci_hi"}) data.header.push_back(std::string(m.key) + suffix);
  }
  if (!paper.source.empty()) {
    display.header.push_back("paper");
    data.header.push_back("paper");
    display.caption += ". Paper: " + paper.source;
  }
  json rows = json::array();
  std::vector<ErrorShareRow> error_rows;
  for (const Setting& s : settings) {
    std::vector<Cell> drow, crow;
    for (const std::string& l : s.labels) drow.push_back(Cell::str(l)), crow.push_back(Cell::str(l));
    drow.push_back(Cell::num(static_cast<double>(s.runs.size()), 0));
    crow.push_back(Cell::num(static_cast<double>(s.runs.size()), 0));
    json jr;
    jr["labels"] = s.labels;
    jr["values"] = s.values;
    jr["seeds"] = s.seeds;
    for (const MetricDef& m : ablation_metrics()) {
      std::vector<double> v;
      for (const RunOutcome& o : s.runs) v.push_back(metric_of(o, m.key));
      std::vector<double> finite;
      for (double x : v)
        if (!std::isnan(x)) finite.push_back(x);
      const double mean = sample_mean(finite), sd = sample_std(finite);
      const Interval ci = bootstrap_mean_ci(finite);
      Cell c = Cell::num(mean, m.decimals);
      if (finite.size() > 1)
        c.note = "\xC2\xB1 " + format_fixed(sd, m.decimals) + " [" + format_fixed(ci.lo, m.decimals) + ", " +
                 format_fixed(ci.hi, m.decimals) + "]";
      drow.push_back(c);
      for (double x : {mean, sd, ci.lo, ci.hi}) crow.push_back(Cell::num(x, m.decimals));
      json jv = json::array();
      for (double x : v) jv.push_back(std::isnan(x) ? json(nullptr) : json(x));
      auto num = [](double x) { return std::isnan(x) ? json(nullptr) : json(x); };
      jr["metrics"][m.key] = {{"values", jv}, {"mean", num(mean)}, {"std", num(sd)}, {"ci_lo", num(ci.lo)},
                              {"ci_hi", num(ci.hi)}};
      // By the grid's seed order, NaN where a seed did not finish: claims pair seeds.
      std::vector<double>& by_seed = seed_values[row_label(s.labels)][m.key];
      by_seed.assign(grid_seeds.size(), std::nan(""));
      for (size_t r = 0; r < s.runs.size(); ++r) {
        const auto at = std::find(grid_seeds.begin(), grid_seeds.end(), s.seeds[r]);
        if (at != grid_seeds.end()) by_seed[static_cast<size_t>(at - grid_seeds.begin())] = v[r];
      }
    }
    // The error breakdown (eval.errors): shares per seed, for errors.md, results.json and claims.
    ErrorShareRow er{row_label(s.labels), {}};
    for (size_t k = 0; k < 5; ++k) {
      std::vector<double>& by_seed = seed_values[er.label][error_share_metric(k)];
      by_seed.assign(grid_seeds.size(), std::nan(""));
    }
    for (size_t r = 0; r < s.runs.size(); ++r) {
      const std::optional<ErrorShares> shares = read_error_shares(s.runs[r].dir / "errors.csv");
      if (!shares) continue;
      er.by_seed.push_back(*shares);
      const auto at = std::find(grid_seeds.begin(), grid_seeds.end(), s.seeds[r]);
      for (size_t k = 0; k < 5; ++k) {
        if (at != grid_seeds.end()) seed_values[er.label][error_share_metric(k)][at - grid_seeds.begin()] = (*shares)[k];
        jr["errors"][error_kind_names()[k]].push_back((*shares)[k]);
      }
    }
    if (!er.by_seed.empty()) error_rows.push_back(er);
    if (!paper.source.empty()) {
      const auto it = paper.values.find(row_label(s.labels));
      drow.push_back(it == paper.values.end() ? Cell::str("\xE2\x80\x93") : Cell::num(it->second, 3));
      crow.push_back(it == paper.values.end() ? Cell::str("") : Cell::num(it->second, 3));
      jr["paper"] = it == paper.values.end() ? json(nullptr) : json(it->second);
    }
    display.rows.push_back(drow);
    data.rows.push_back(crow);
    rows.push_back(jr);
  }
  write_file_atomic(out_dir / "table.md", to_markdown(display));
  write_file_atomic(out_dir / "table.tex", to_latex(display));
  write_file_atomic(out_dir / "table.csv", to_csv(data));
  if (!error_rows.empty())
    write_file_atomic(out_dir / "errors.md",
                      format_error_shares(error_rows, "Error breakdown of " + grid.value("name", std::string()) +
                                                          " (YOLO v1, figure 4)"));
  json results;
  results["format_version"] = 1;
  results["name"] = grid.value("name", std::string());
  results["axes"] = axes;
  results["metrics"] = json::array();
  for (const MetricDef& m : ablation_metrics()) results["metrics"].push_back({{"key", m.key}, {"header", m.header}});
  results["rows"] = rows;
  results["missing"] = res.missing;
  if (!claims.empty()) {
    const std::vector<ClaimResult> judged = judge_claims(claims, seed_values);
    std::string md = "*Claims of " + grid.value("description", grid.value("name", std::string())) + " on our " +
                     std::to_string(n_seeds) + " seed(s).*\n\n" + format_claims(judged);
    write_file_atomic(out_dir / "claims.md", md);
    results["claims"] = json::array();
    for (const ClaimResult& r : judged) {
      auto num = [](double x) { return std::isfinite(x) ? json(x) : json(nullptr); };
      results["claims"].push_back({{"claim", r.claim.text}, {"source", r.claim.source}, {"metric", r.claim.metric},
                                   {"better", r.claim.better}, {"worse", r.claim.worse}, {"n", r.n},
                                   {"diff", num(r.diff)}, {"ci_lo", num(r.lo)}, {"ci_hi", num(r.hi)},
                                   {"verdict", verdict_name(r.verdict)}, {"problem", r.problem}});
    }
    res.claims = judged;
  }
  write_file_atomic(out_dir / "results.json", results.dump(2) + "\n");

  if (opts.plots && res.finished > 0) {
    res.plot_error = make_plots(out_dir, /*quiet=*/true);
    if (!res.plot_error.empty()) std::cerr << "warning: plots: " << res.plot_error << "\n";
  }

  json manifest;
  manifest["format_version"] = 1;
  manifest["kind"] = "ablation";
  manifest["grid"] = grid;
  manifest["collect_command_line"] = opts.command_line;
  manifest["collected"] = iso_time_utc(std::chrono::system_clock::now());
  manifest["shards"] = json::array();
  if (fs::exists(out_dir / "shards")) {
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(out_dir / "shards"))
      if (f.path().extension() == ".json") files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) manifest["shards"].push_back(read_json(f));
  }
  manifest["points"] = points_manifest;
  // The resolved base config (every point's config is points/<slug>/config.yaml).
  for (const json& p : points_manifest)
    if (p.value("status", "") == "ok") {
      const fs::path cfg = out_dir / "points" / p.at("slug").get<std::string>() / "config.yaml";
      if (fs::exists(cfg)) manifest["example_resolved_config"] = read_file(cfg);
      break;
    }
  write_file_atomic(out_dir / "manifest.json", manifest.dump(2) + "\n");
  res.table = display;
  return res;
}

}  // namespace detlab
