// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// run_cached: train-or-reuse, evaluate-or-reuse, run.json.
#include "experiment/cached_run.h"

#include <sys/resource.h>

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/pr_curves.h"
#include "experiment/run.h"

namespace detlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kRunFormatVersion = 1;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fnv1a_hex(const std::string& text) {
  // FNV-1a, 64 bit, as Config::hash(): stable across platforms and runs.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

json num(double v) { return std::isnan(v) ? json(nullptr) : json(v); }
double num_of(const json& j) { return j.is_number() ? j.get<double>() : kNaN; }

json read_json(const fs::path& file) {
  try {
    return json::parse(read_file(file));
  } catch (const json::exception& e) {
    throw InputError(file.string(), "", std::string("not valid JSON: ") + e.what());
  }
}

/// A folder we may empty: missing, empty, or one that a detlab run wrote (never a user's other folder).
bool is_ours(const fs::path& dir) {
  if (!fs::exists(dir)) return true;
  if (fs::is_empty(dir)) return true;
  // train_log.csv and checkpoints/ are the first files the training engine writes: a run killed mid-training
  // leaves only them, and the rerun must retrain that folder rather than refuse it.
  for (const char* marker :
       {"run.json", "model_key.json", "detector.json", "train.json", "config.yaml", "train_log.csv", "checkpoints"})
    if (fs::exists(dir / marker)) return true;
  return false;
}

bool model_finished(const fs::path& model_dir, const std::string& train_key) {
  const fs::path key_file = model_dir / "model_key.json";
  if (!fs::exists(key_file) || !fs::exists(model_dir / "detector.json")) return false;
  try {
    const json j = read_json(key_file);
    return j.value("train_key", "") == train_key;
  } catch (const std::exception&) {
    return false;  // unreadable key file: retrain
  }
}

std::vector<ClassResult> class_results(const Evaluation& e) {
  std::vector<ClassResult> out;
  const auto& names = e.metrics.class_names;
  for (size_t k = 0; k < names.size(); ++k) {
    ClassResult c;
    c.name = names[k];
    const int label = static_cast<int>(k);
    if (e.coco) {
      const double ap = coco_class_ap(*e.coco, label), ap50 = coco_class_ap(*e.coco, label, .5);
      c.ap = ap > -1 ? ap : kNaN;  // -1: no ground truth (pycocotools' marker)
      c.ap50 = ap50 > -1 ? ap50 : kNaN;
      for (size_t a = 0; a < e.coco->A(); ++a)
        if (e.coco->options.area_ranges[a].label == "all") c.num_gt = e.coco->num_gt[k * e.coco->A() + a];
    }
    if (e.voc07) c.voc07 = e.voc07->classes[k].ap, c.num_gt = c.num_gt >= 0 ? c.num_gt : e.voc07->classes[k].num_gt;
    if (e.voc12) c.voc12 = e.voc12->classes[k].ap, c.num_gt = c.num_gt >= 0 ? c.num_gt : e.voc12->classes[k].num_gt;
    out.push_back(c);
  }
  return out;
}

json stages_json(const std::vector<std::pair<std::string, double>>& stages) {
  json j = json::array();
  for (const auto& [name, ms] : stages) j.push_back({name, num(ms)});
  return j;
}

std::vector<std::pair<std::string, double>> stages_of(const json& j) {
  std::vector<std::pair<std::string, double>> out;
  for (const json& e : j) out.emplace_back(e.at(0).get<std::string>(), num_of(e.at(1)));
  return out;
}

/// CPU seconds (user + system) this process has used so far, over all threads.
double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

/// The model folder a run.json names, relative to the run folder.
fs::path model_dir_of(const fs::path& dir, const json& run) {
  return (dir / run.at("model_dir").get<std::string>()).lexically_normal();
}

}  // namespace

RunKeys run_keys(const RunConfig& rc, uint64_t seed, const std::vector<std::string>& eval_only,
                 const std::string& split) {
  Config stripped = rc.root.clone();
  for (const std::string& key : eval_only) stripped.set(key, "null");
  const std::string dataset = rc.root.child("dataset").dump();
  RunKeys k;
  k.train = fnv1a_hex("dataset:\n" + dataset + "\ndetector:\n" + stripped.child("detector").dump() +
                      "\nseed: " + std::to_string(seed) + "\n");
  const std::string eval = rc.root.has("eval") ? rc.root.child("eval").dump() : std::string("~");
  k.eval = fnv1a_hex("train: " + k.train + "\ndetector:\n" + rc.root.child("detector").dump() + "\neval:\n" + eval +
                     "\nsplit: " + split + "\n");
  return k;
}

bool run_is_cached(const fs::path& dir, const RunKeys& keys) {
  const fs::path run_file = dir / "run.json";
  if (!fs::exists(run_file) || !fs::exists(dir / "metrics.json")) return false;
  try {
    const json j = read_json(run_file);
    if (j.value("format_version", 0) != kRunFormatVersion) return false;
    if (j.at("keys").value("eval", "") != keys.eval) return false;
    return model_finished(model_dir_of(dir, j), keys.train);
  } catch (const std::exception&) {
    return false;
  }
}

RunOutcome read_run_outcome(const fs::path& dir) {
  const fs::path run_file = dir / "run.json";
  if (!fs::exists(run_file)) throw InputError(run_file.string(), "", "not found (the run has not finished)");
  const json j = read_json(run_file);
  const int version = j.value("format_version", 0);
  if (version != kRunFormatVersion)
    throw InputError(run_file.string(), "format_version",
                     "unknown version " + std::to_string(version) + " (expected " +
                         std::to_string(kRunFormatVersion) + ")");
  RunOutcome o;
  try {
    o.keys.train = j.at("keys").at("train").get<std::string>();
    o.keys.eval = j.at("keys").at("eval").get<std::string>();
    o.dir = dir;
    o.model_dir = model_dir_of(dir, j);
    const json& t = j.at("train");
    o.train_seconds = num_of(t.at("seconds"));
    o.num_parameters = t.at("num_parameters").get<int64_t>();
    o.train_images = t.at("images").get<int>();
    o.train_cpu_seconds = num_of(t.value("cpu_seconds", json()));
    const json& e = j.at("eval");
    o.images = e.at("images").get<int>();
    o.ms_per_image_p90 = num_of(e.at("ms_per_image_p90"));
    o.eval_cpu_seconds = num_of(e.value("cpu_seconds", json()));
    o.stage_ms = stages_of(e.at("stages"));
    o.stage_p90_ms = stages_of(e.at("stages_p90"));
    for (const json& c : j.at("classes")) {
      ClassResult r;
      r.name = c.at("name").get<std::string>();
      r.num_gt = c.at("gt").get<int64_t>();
      r.ap = num_of(c.at("AP"));
      r.ap50 = num_of(c.at("AP50"));
      r.voc07 = num_of(c.at("VOC07"));
      r.voc12 = num_of(c.at("VOC12"));
      o.classes.push_back(r);
    }
  } catch (const json::exception& ex) {
    throw InputError(run_file.string(), "", std::string("malformed run.json: ") + ex.what());
  }
  o.metrics = read_metrics_json(dir / "metrics.json");
  return o;
}

RunOutcome run_cached(const RunConfig& rc, const CachedRunOptions& opts) {
  DETLAB_REQUIRE(!opts.dir.empty(), "run_cached needs a run folder");
  const fs::path model_dir = opts.model_dir.empty() ? opts.dir : opts.model_dir;
  const RunKeys keys = run_keys(rc, opts.seed, opts.eval_only, opts.split);
  if (!opts.retrain && run_is_cached(opts.dir, keys)) return read_run_outcome(opts.dir);

  RunOutcome out;
  out.keys = keys;
  out.dir = opts.dir;
  out.model_dir = model_dir;
  std::unique_ptr<Detector> det;
  if (!opts.retrain && model_finished(model_dir, keys.train)) {
    det = load_trained(rc, model_dir);
    const json t = read_json(model_dir / "train.json");
    out.train_seconds = num_of(t.at("train_seconds"));
    out.num_parameters = t.value("num_parameters", int64_t{0});
    out.train_images = t.value("train_images", 0);
    if (fs::exists(model_dir / "model_key.json"))
      out.train_cpu_seconds = num_of(read_json(model_dir / "model_key.json").value("train_cpu_seconds", json()));
  } else {
    for (const fs::path& d : {model_dir, opts.dir})
      if (!is_ours(d))
        throw InputError(d.string(), "", "exists and is not a detlab run folder; refusing to overwrite it");
    fs::remove_all(model_dir);  // a stale or half-trained model must not survive next to the new one
    fs::create_directories(model_dir);
    det = build_detector(rc, opts.seed);
    TrainRunOptions to;
    to.out_dir = model_dir;
    to.threads = opts.threads;
    to.seed = opts.seed;
    to.device = opts.device;
    const double cpu0 = process_cpu_seconds();
    const TrainReport tr = train_run(rc, *det, to);
    out.train_cpu_seconds = process_cpu_seconds() - cpu0;
    out.trained = true;
    out.train_seconds = tr.train_seconds;
    out.num_parameters = tr.num_parameters;
    out.train_images = tr.train_images;
    json key;
    key["format_version"] = kRunFormatVersion;
    key["train_key"] = keys.train;
    key["seed"] = opts.seed;
    key["train_cpu_seconds"] = out.train_cpu_seconds;
    write_file_atomic(model_dir / "model_key.json", key.dump(2) + "\n");  // last: the model is finished
  }

  fs::create_directories(opts.dir);
  fs::remove(opts.dir / "run.json");  // until the new evaluation is complete the folder is not a cached run
  EvalRunOptions eo;
  eo.split = opts.split;
  eo.out_dir = opts.dir;
  eo.threads = opts.threads;
  const double cpu0 = process_cpu_seconds();
  const EvalReport er = evaluate_run(rc, *det, eo);
  out.eval_cpu_seconds = process_cpu_seconds() - cpu0;
  out.evaluated = true;
  out.metrics = er.evaluation.metrics;
  out.images = er.images;
  out.ms_per_image_p90 = er.ms_per_image_p90;
  for (const std::string& s : er.stage_order) {
    out.stage_ms.emplace_back(s, er.stage_ms.at(s));
    out.stage_p90_ms.emplace_back(s, er.stage_p90_ms.at(s));
  }
  out.classes = class_results(er.evaluation);
  const auto& names = out.metrics.class_names;
  if (er.evaluation.voc12)
    write_pr_curves(opts.dir / "pr", *er.evaluation.voc12, names);
  else if (er.evaluation.voc07)
    write_pr_curves(opts.dir / "pr", *er.evaluation.voc07, names);
  write_file_atomic(opts.dir / "class_ap.md", format_class_ap_table(er.evaluation, TableFormat::kMarkdown));
  write_file_atomic(opts.dir / "class_ap.csv", format_class_ap_table(er.evaluation, TableFormat::kCsv));

  json j;
  j["format_version"] = kRunFormatVersion;
  j["name"] = rc.name;
  j["seed"] = opts.seed;
  j["keys"] = {{"train", keys.train}, {"eval", keys.eval}};
  // Relative to the run folder, so that a results folder can be moved or read from another directory.
  j["model_dir"] = fs::relative(model_dir, opts.dir).generic_string();
  j["train"] = {{"seconds", num(out.train_seconds)}, {"cpu_seconds", num(out.train_cpu_seconds)},
                {"num_parameters", out.num_parameters}, {"images", out.train_images}};
  j["eval"] = {{"split", opts.split},
               {"images", out.images},
               {"cpu_seconds", num(out.eval_cpu_seconds)},
               {"ms_per_image", num(out.metrics.ms_per_image)},
               {"ms_per_image_p90", num(out.ms_per_image_p90)},
               {"stages", stages_json(out.stage_ms)},
               {"stages_p90", stages_json(out.stage_p90_ms)}};
  j["classes"] = json::array();
  for (const ClassResult& c : out.classes)
    j["classes"].push_back({{"name", c.name}, {"gt", c.num_gt}, {"AP", num(c.ap)}, {"AP50", num(c.ap50)},
                            {"VOC07", num(c.voc07)}, {"VOC12", num(c.voc12)}});
  write_file_atomic(opts.dir / "run.json", j.dump(2) + "\n");
  return out;
}

}  // namespace detlab
