// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Comparison tables and summary.json.
#include "experiment/compare_tables.h"

#include <cmath>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "experiment/stats.h"

namespace detlab {

using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Getter = std::function<double(const RunOutcome&)>;

std::vector<double> values(const EntryResult& e, const Getter& get) {
  std::vector<double> v;
  for (const RunOutcome& o : e.runs) v.push_back(get(o));
  return v;
}

double mean_of(const EntryResult& e, const Getter& get) {
  std::vector<double> v;
  for (double x : values(e, get))
    if (!std::isnan(x)) v.push_back(x);
  return sample_mean(v);
}

double std_of(const EntryResult& e, const Getter& get) {
  std::vector<double> v;
  for (double x : values(e, get))
    if (!std::isnan(x)) v.push_back(x);
  return sample_std(v);
}

/// A metric cell: mean over seeds, "± std" when there are several.
Cell metric(const EntryResult& e, const Getter& get, int decimals) {
  Cell c = Cell::num(mean_of(e, get), decimals);
  if (e.runs.size() > 1) c.note = "\xC2\xB1 " + format_fixed(std_of(e, get), decimals);
  return c;
}

Getter coco(const std::string& key) {
  // pycocotools reports -1 where no ground truth falls in the area range (e.g. APl without large objects).
  return [key](const RunOutcome& o) {
    const double v = o.metrics.coco ? o.metrics.coco_stat(key) : kNaN;
    return v < 0 ? kNaN : v;
  };
}

double voc07_map(const RunOutcome& o) { return o.metrics.voc07 ? o.metrics.voc07->map : kNaN; }
double voc12_map(const RunOutcome& o) { return o.metrics.voc12 ? o.metrics.voc12->map : kNaN; }

Getter class_value(size_t k, double ClassResult::*field) {
  return [k, field](const RunOutcome& o) { return k < o.classes.size() ? o.classes[k].*field : kNaN; };
}

double stage_value(const std::vector<std::pair<std::string, double>>& stages, const std::string& name) {
  for (const auto& [s, v] : stages)
    if (s == name) return v;
  return kNaN;
}

bool any_failed(const CompareResult& r) {
  for (const EntryResult& e : r.entries)
    if (!e.ok()) return true;
  return false;
}

std::string status_text(const EntryResult& e) {
  if (e.ok()) return "ok";
  std::string s = "failed: " + (e.errors.empty() ? std::string("no run finished") : e.errors.front());
  if (e.errors.size() > 1) s += " (+" + std::to_string(e.errors.size() - 1) + " more)";
  return s;
}

/// The row label: "†" marks an entry reused on purpose although stale (--reuse-stale).
std::string row_label(const EntryResult& e) {
  for (const RunOutcome& o : e.runs)
    if (!o.stale.empty()) return e.entry.label + " \xE2\x80\xA0";
  return e.entry.label;
}

/// Where the numbers came from: thread count and device of the timings, the commits whose builds made the
/// entries (each entry's own manifest), and what a stale entry differs in.
std::string provenance_caption(const CompareResult& r) {
  std::map<std::string, int> commits, train_commits;  // build commits of the evaluations / of the models
  std::vector<std::string> stale;
  for (const EntryResult& e : r.entries)
    for (const RunOutcome& o : e.runs) {
      if (!o.stale.empty()) {
        std::string why;
        for (const std::string& w : o.stale) why += (why.empty() ? "" : "; ") + w;
        stale.push_back(e.entry.label + ": " + why);
      }
      if (o.manifest.empty()) continue;
      const json m = json::parse(o.manifest);
      auto commit_of = [&](const char* part) {
        const json& build = m.at(part).at("build");
        std::string c = build.value("commit", std::string("unknown")).substr(0, 10);
        if (build.value("dirty", false)) c += " (uncommitted changes)";
        return c;
      };
      ++commits[commit_of("eval")];
      if (m.contains("train") && m.at("train").contains("build")) ++train_commits[commit_of("train")];
    }
  auto list = [](const std::map<std::string, int>& counts) {
    std::string out;
    for (const auto& [c, n] : counts)
      out += (out.empty() ? "" : ", ") + c +
             (counts.size() > 1 ? " (" + std::to_string(n) + (n == 1 ? " run)" : " runs)") : "");
    return out;
  };
  std::string s = " Timings with " + std::to_string(r.threads) + " thread" + (r.threads == 1 ? "" : "s") + " on " +
                  r.device + ".";
  if (!commits.empty()) {
    s += " Code: commit " + list(commits);
    // A model reused from an earlier commit was made by the same code as far as it depends on it (its key
    // names every source file it reaches), so the table says so rather than hiding it.
    if (!train_commits.empty() && train_commits != commits)
      s += " (scoring); models trained at " + list(train_commits) + ", each reused only where its code is unchanged";
    s += ".";
  }
  if (!stale.empty()) {
    s += " \xE2\x80\xA0 Reused on purpose (--reuse-stale) although made by other inputs:";
    for (const std::string& x : stale) s += " " + x + ".";
  }
  return s;
}

std::string seeds_caption(const CompareResult& r) {
  size_t seeds = 0;
  for (const EntryResult& e : r.entries) seeds = std::max(seeds, e.runs.size() + e.errors.size());
  return seeds > 1 ? " Mean over " + std::to_string(seeds) + " seeds (± sample std)." : "";
}

}  // namespace

Table compare_main_table(const CompareResult& r) {
  Table t;
  t.caption = "COCO AP / AR, VOC07 11-point mAP and per-class AP50 on the test split; training time, wall ms per "
              "image (mean, p90) and learned parameters." + seeds_caption(r) + provenance_caption(r);
  t.header = {"Detector", "AP", "AP50", "AP75", "APs", "APm", "APl", "AR100", "VOC07 mAP"};
  for (const std::string& c : r.class_names) t.header.push_back("AP50 " + c);
  t.header.insert(t.header.end(), {"train s", "ms/img", "p90 ms", "params"});
  const bool status = any_failed(r);
  if (status) t.header.push_back("status");
  for (const EntryResult& e : r.entries) {
    std::vector<Cell> row = {Cell::str(row_label(e))};
    if (e.runs.empty()) {
      row.resize(t.header.size() - (status ? 1 : 0), Cell::str(""));
    } else {
      for (const char* key : {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR100"}) row.push_back(metric(e, coco(key), 3));
      row.push_back(metric(e, voc07_map, 3));
      for (size_t k = 0; k < r.class_names.size(); ++k) row.push_back(metric(e, class_value(k, &ClassResult::ap50), 3));
      row.push_back(metric(e, [](const RunOutcome& o) { return o.train_seconds; }, 1));
      row.push_back(metric(e, [](const RunOutcome& o) { return o.metrics.ms_per_image; }, 1));
      row.push_back(metric(e, [](const RunOutcome& o) { return o.ms_per_image_p90; }, 1));
      row.push_back(Cell::num(mean_of(e, [](const RunOutcome& o) { return static_cast<double>(o.num_parameters); }), 0));
    }
    if (status) row.push_back(Cell::str(status_text(e)));
    t.rows.push_back(row);
  }
  return t;
}

Table compare_class_table(const CompareResult& r) {
  Table t;
  t.caption = "Per-class AP on the test split: COCO AP@[.5:.95], COCO AP@.5 and VOC07 11-point AP." + seeds_caption(r);
  t.header = {"Detector"};
  for (const std::string& c : r.class_names)
    t.header.insert(t.header.end(), {c + " AP", c + " AP50", c + " VOC07"});
  for (const EntryResult& e : r.entries) {
    std::vector<Cell> row = {Cell::str(e.entry.label)};
    for (size_t k = 0; k < r.class_names.size(); ++k) {
      if (e.runs.empty()) {
        row.insert(row.end(), 3, Cell::str(""));
        continue;
      }
      row.push_back(metric(e, class_value(k, &ClassResult::ap), 3));
      row.push_back(metric(e, class_value(k, &ClassResult::ap50), 3));
      row.push_back(metric(e, class_value(k, &ClassResult::voc07), 3));
    }
    t.rows.push_back(row);
  }
  return t;
}

Table compare_timing_table(const CompareResult& r) {
  Table t;
  t.caption = "Wall-clock milliseconds per test image by stage, one image at a time (mean and 90th percentile)." +
              seeds_caption(r) + provenance_caption(r);
  t.header = {"Detector", "stage", "mean ms", "p90 ms"};
  for (const EntryResult& e : r.entries) {
    if (e.runs.empty()) continue;
    for (const auto& [stage, unused] : e.runs.front().stage_ms) {
      const std::string s = stage;
      t.rows.push_back({Cell::str(e.entry.label), Cell::str(s),
                        metric(e, [s](const RunOutcome& o) { return stage_value(o.stage_ms, s); }, 2),
                        metric(e, [s](const RunOutcome& o) { return stage_value(o.stage_p90_ms, s); }, 2)});
    }
    t.rows.push_back({Cell::str(e.entry.label), Cell::str("total"),
                      metric(e, [](const RunOutcome& o) { return o.metrics.ms_per_image; }, 2),
                      metric(e, [](const RunOutcome& o) { return o.ms_per_image_p90; }, 2)});
  }
  return t;
}

std::string compare_summary_json(const CompareResult& r, const std::string& name, bool quick) {
  auto num = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
  json j;
  j["format_version"] = 1;
  j["name"] = name;
  j["quick"] = quick;
  j["class_names"] = r.class_names;
  j["entries"] = json::array();
  const std::vector<std::pair<std::string, Getter>> metrics = {
      {"AP", coco("AP")},       {"AP50", coco("AP50")},   {"AP75", coco("AP75")},   {"APs", coco("APs")},
      {"APm", coco("APm")},     {"APl", coco("APl")},     {"AR1", coco("AR1")},     {"AR10", coco("AR10")},
      {"AR100", coco("AR100")}, {"VOC07", voc07_map},     {"VOC12", voc12_map},
      {"ms_per_image", [](const RunOutcome& o) { return o.metrics.ms_per_image; }},
      {"ms_per_image_p90", [](const RunOutcome& o) { return o.ms_per_image_p90; }},
      {"train_seconds", [](const RunOutcome& o) { return o.train_seconds; }},
      {"train_cpu_seconds", [](const RunOutcome& o) { return o.train_cpu_seconds; }},
      {"eval_cpu_seconds", [](const RunOutcome& o) { return o.eval_cpu_seconds; }},
      {"num_parameters", [](const RunOutcome& o) { return static_cast<double>(o.num_parameters); }}};
  for (const EntryResult& e : r.entries) {
    json je;
    je["label"] = e.entry.label;
    je["slug"] = e.entry.slug;
    je["index"] = e.entry.index;
    je["config"] = e.entry.config.generic_string();
    je["status"] = e.ok() ? "ok" : "failed";
    je["stale"] = row_label(e) != e.entry.label;
    je["error"] = e.errors.empty() ? json(nullptr) : json(e.errors.front());
    je["runs"] = json::array();
    for (size_t i = 0; i < e.runs.size(); ++i)
      je["runs"].push_back({{"seed", e.seeds[i]},
                            {"dir", e.runs[i].dir.lexically_relative(r.out_dir).generic_string()},
                            {"trained", e.runs[i].trained},
                            {"evaluated", e.runs[i].evaluated}});
    json m = json::object(), s = json::object();
    if (!e.runs.empty())
      for (const auto& [key, get] : metrics) m[key] = num(mean_of(e, get)), s[key] = num(std_of(e, get));
    je["metrics"] = m;
    je["std"] = s;
    json pc = json::object();
    if (!e.runs.empty())
      for (size_t k = 0; k < r.class_names.size(); ++k)
        pc[r.class_names[k]] = {{"AP", num(mean_of(e, class_value(k, &ClassResult::ap)))},
                                {"AP50", num(mean_of(e, class_value(k, &ClassResult::ap50)))},
                                {"VOC07", num(mean_of(e, class_value(k, &ClassResult::voc07)))}};
    je["per_class"] = pc;
    json stages = json::array();
    if (!e.runs.empty())
      for (const auto& [stage, unused] : e.runs.front().stage_ms) {
        const std::string st = stage;
        stages.push_back({st, num(mean_of(e, [st](const RunOutcome& o) { return stage_value(o.stage_ms, st); })),
                          num(mean_of(e, [st](const RunOutcome& o) { return stage_value(o.stage_p90_ms, st); }))});
      }
    je["stages"] = stages;
    j["entries"].push_back(je);
  }
  j["proposals"] = json::array();
  for (const ProposalResult& p : r.proposals)
    j["proposals"].push_back({{"label", p.entry.label},
                              {"file", p.error.empty() ? json(p.file.generic_string()) : json(nullptr)},
                              {"error", p.error.empty() ? json(nullptr) : json(p.error)}});
  j["samples"] = "samples/ground_truth.json";
  return j.dump(2) + "\n";
}

}  // namespace detlab
