// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// run_cached: train-or-reuse, evaluate-or-reuse, run.json.
#include "experiment/cached_run.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiment/manifest.h"
#include "experiment/provenance.h"
#include "experiment/run.h"
#include "pipeline/runtime.h"

namespace detlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// 2: keys over config, data content, seed, threads, device and code (provenance.h), inputs and provenance kept.
constexpr int kRunFormatVersion = 2;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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

/// The model_key.json of a finished model folder (also requires detector.json); null when there is none or it
/// cannot be read.
json stored_model_key(const fs::path& model_dir) {
  const fs::path key_file = model_dir / "model_key.json";
  if (!fs::exists(key_file) || !fs::exists(model_dir / "detector.json")) return nullptr;
  try {
    return read_json(key_file);
  } catch (const std::exception&) {
    return nullptr;  // unreadable key file: retrain
  }
}

bool model_finished(const fs::path& model_dir, const std::string& train_key) {
  const json k = stored_model_key(model_dir);
  return k.is_object() && k.value("format_version", 0) == kRunFormatVersion && k.value("train_key", "") == train_key;
}

/// The inputs stored under `key` ("inputs" of model_key.json, "inputs"."eval" of run.json), if readable.
std::optional<RunInputs> stored_inputs(const json& j) {
  try {
    return RunInputs::from_json(j);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// What differs from a stored record, for the message of a redone step: its inputs' changes, or why it cannot
/// be compared. Empty when there was nothing before.
std::vector<std::string> changes_since(const json& record, const json& inputs, const RunInputs& now) {
  if (record.is_null()) return {};
  if (record.value("format_version", 0) != kRunFormatVersion)
    return {"made by an older detlab (format " + std::to_string(record.value("format_version", 0)) + ")"};
  const std::optional<RunInputs> before = stored_inputs(inputs);
  if (!before) return {"unreadable record"};
  std::vector<std::string> c = describe_changes(*before, now);
  if (c.empty()) c.push_back("forced (--retrain)");
  return c;
}

/// When, where and with what a training or evaluation ran: one section of an entry's manifest.json.
json provenance(const Environment& env, const RunInputs& in, const std::string& key, double seconds,
                double cpu_seconds) {
  const LibraryThreads t = library_threads();
  return {{"key", key},
          {"finished", iso_time_utc(std::chrono::system_clock::now())},
          {"seconds", num(seconds)},
          {"cpu_seconds", num(cpu_seconds)},
          {"commit", env.git_commit},
          {"dirty", env.git_dirty},
          {"build", {{"commit", env.build_commit}, {"dirty", env.build_dirty}}},
          {"threads", in.threads},
          {"library_threads", {{"opencv", t.opencv}, {"openblas", t.openblas}, {"torch", t.torch}}},
          {"device", in.device},
          {"code", in.code.hash},
          {"machine", {{"cpu", env.cpu}, {"hardware_threads", env.hardware_threads}, {"hostname", env.hostname}}},
          {"libraries", env.libraries}};
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

namespace {

struct Inputs {
  RunInputs train, eval;
  RunKeys keys() const { return {train.key(), eval.key()}; }
};

Inputs inputs_of(const RunConfig& rc, uint64_t seed, const std::vector<std::string>& eval_only,
                 const std::string& split, int threads, const std::string& device) {
  Inputs in;
  in.train = train_inputs(rc, run_data_hash(rc), seed, resolve_thread_count(threads), device, eval_only);
  in.eval = eval_inputs(rc, in.train, split);
  return in;
}

}  // namespace

RunKeys run_keys(const RunConfig& rc, uint64_t seed, const std::vector<std::string>& eval_only,
                 const std::string& split, int threads, const std::string& device) {
  return inputs_of(rc, seed, eval_only, split, threads, device).keys();
}

std::string describe_outcome(const RunOutcome& o) {
  auto because = [](const std::vector<std::string>& why) {
    std::string s;
    for (const std::string& w : why) s += (s.empty() ? "" : "; ") + w;
    return s.empty() ? std::string() : " (" + s + ")";
  };
  std::string s;
  if (o.trained)
    s = (o.retrained_because.empty() ? "trained" : "retrained" + because(o.retrained_because)) + ", evaluated";
  else if (o.evaluated)
    s = "reused the model, " +
        (o.reevaluated_because.empty() ? std::string("evaluated") : "re-evaluated" + because(o.reevaluated_because));
  else
    s = "reused the model and the evaluation";
  if (!o.stale.empty()) s += "; reused on purpose although stale" + because(o.stale);
  return s;
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
                         std::to_string(kRunFormatVersion) + "; rerun the command to redo it)");
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
    o.stale = j.value("stale", std::vector<std::string>{});
  } catch (const json::exception& ex) {
    throw InputError(run_file.string(), "", std::string("malformed run.json: ") + ex.what());
  }
  o.metrics = read_metrics_json(dir / "metrics.json");
  if (fs::exists(dir / "manifest.json")) o.manifest = read_file(dir / "manifest.json");
  return o;
}

RunOutcome run_cached(const RunConfig& rc, const CachedRunOptions& opts) {
  DETLAB_REQUIRE(!opts.dir.empty(), "run_cached needs a run folder");
  const fs::path model_dir = opts.model_dir.empty() ? opts.dir : opts.model_dir;
  const Inputs in = inputs_of(rc, opts.seed, opts.eval_only, opts.split, opts.threads, opts.device);
  const RunKeys keys = in.keys();
  if (!opts.retrain && run_is_cached(opts.dir, keys)) return read_run_outcome(opts.dir);

  RunOutcome out;
  out.keys = keys;
  out.dir = opts.dir;
  out.model_dir = model_dir;
  const Environment env = probe_environment();

  // The model: reuse it when its train key matches (or, with reuse_stale, when only code / data / threads /
  // device differ); otherwise train, saying what changed since the model that was there.
  const json stored = stored_model_key(model_dir);
  const std::optional<RunInputs> stored_train =
      stored.is_object() && stored.value("format_version", 0) == kRunFormatVersion && stored.contains("inputs")
          ? stored_inputs(stored.at("inputs"))
          : std::nullopt;
  const bool fresh = stored_train && stored.value("train_key", "") == keys.train;
  const bool stale_ok = opts.reuse_stale && stored_train && same_config_and_seed(*stored_train, in.train);
  std::unique_ptr<Detector> det;
  json train_record;
  if (!opts.retrain && (fresh || stale_ok)) {
    if (!fresh) out.stale = describe_changes(*stored_train, in.train);
    det = load_trained(rc, model_dir);
    const json t = read_json(model_dir / "train.json");
    out.train_seconds = num_of(t.at("train_seconds"));
    out.num_parameters = t.value("num_parameters", int64_t{0});
    out.train_images = t.value("train_images", 0);
    out.train_cpu_seconds = num_of(stored.value("train_cpu_seconds", json()));
    train_record = stored.value("provenance", json::object());
  } else {
    out.retrained_because = changes_since(stored, stored.is_object() ? stored.value("inputs", json()) : json(), in.train);
    for (const fs::path& d : {model_dir, opts.dir})
      if (!is_ours(d))
        throw InputError(d.string(), "", "exists and is not a detlab run folder; refusing to overwrite it");
    fs::remove_all(model_dir);  // a stale or half-trained model must not survive next to the new one
    fs::create_directories(model_dir);
    det = build_detector(rc, opts.seed);
    TrainRunOptions to;
    to.out_dir = model_dir;
    to.threads = in.train.threads;
    to.seed = opts.seed;
    to.device = opts.device;
    const double cpu0 = process_cpu_seconds();
    const TrainReport tr = train_run(rc, *det, to);
    out.train_cpu_seconds = process_cpu_seconds() - cpu0;
    out.trained = true;
    out.train_seconds = tr.train_seconds;
    out.num_parameters = tr.num_parameters;
    out.train_images = tr.train_images;
    train_record = provenance(env, in.train, keys.train, out.train_seconds, out.train_cpu_seconds);
    json key;
    key["format_version"] = kRunFormatVersion;
    key["train_key"] = keys.train;
    key["seed"] = opts.seed;
    key["train_cpu_seconds"] = out.train_cpu_seconds;
    key["inputs"] = in.train.to_json();
    key["provenance"] = train_record;
    write_file_atomic(model_dir / "model_key.json", key.dump(2) + "\n");  // last: the model is finished
  }

  // The evaluation: reused when its key matches (or stale_ok for a model reused on purpose), else redone.
  fs::create_directories(opts.dir);
  const fs::path run_file = opts.dir / "run.json";
  const json previous = fs::exists(run_file) ? read_json(run_file) : json();
  if (!opts.retrain && !out.trained && previous.is_object() && opts.reuse_stale &&
      previous.value("format_version", 0) == kRunFormatVersion && fs::exists(opts.dir / "metrics.json")) {
    const std::optional<RunInputs> before = stored_inputs(previous.at("inputs").at("eval"));
    if (before && same_config_and_seed(*before, in.eval)) {
      // What differs: the model's inputs (kept above) and the evaluation's own; run.json keeps the mark so that
      // tables collected later from the folder (ablate --collect) show it too.
      std::vector<std::string> stale = out.stale;
      for (const std::string& c : describe_changes(*before, in.eval))
        if (std::find(stale.begin(), stale.end(), c) == stale.end()) stale.push_back(c);
      json marked = previous;
      marked["stale"] = stale;
      write_file_atomic(run_file, marked.dump(2) + "\n");
      RunOutcome reused = read_run_outcome(opts.dir);
      reused.stale = stale;
      return reused;
    }
  }
  if (previous.is_object())
    out.reevaluated_because = changes_since(previous, previous.contains("inputs") ? previous["inputs"].value("eval", json()) : json(),
                                            in.eval);
  fs::remove(run_file);  // until the new evaluation is complete the folder is not a cached run
  EvalRunOptions eo;
  eo.split = opts.split;
  eo.out_dir = opts.dir;
  eo.threads = in.eval.threads;
  const double cpu0 = process_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  const EvalReport er = evaluate_run(rc, *det, eo);
  const double eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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

  json manifest;
  manifest["format_version"] = 1;
  manifest["name"] = rc.name;
  manifest["seed"] = opts.seed;
  manifest["train"] = train_record;
  manifest["eval"] = provenance(env, in.eval, keys.eval, eval_seconds, out.eval_cpu_seconds);
  manifest["eval"]["split"] = opts.split;
  manifest["stale"] = out.stale;
  out.manifest = manifest.dump(2) + "\n";
  write_file_atomic(opts.dir / "manifest.json", out.manifest);

  json j;
  j["format_version"] = kRunFormatVersion;
  j["name"] = rc.name;
  j["seed"] = opts.seed;
  j["keys"] = {{"train", keys.train}, {"eval", keys.eval}};
  j["inputs"] = {{"train", in.train.to_json()}, {"eval", in.eval.to_json()}};
  j["stale"] = out.stale;
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
  write_file_atomic(run_file, j.dump(2) + "\n");
  return out;
}

}  // namespace detlab
