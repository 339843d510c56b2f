// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// run_compare: entries x seeds through run_cached, proposal curves, samples, tables, manifest, plots.
#include "experiment/compare.h"

#include <chrono>
#include <set>
#include <iostream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "experiment/compare_tables.h"
#include "experiment/manifest.h"
#include "experiment/plots.h"
#include "experiment/proposal_curve.h"
#include "pipeline/runtime.h"

namespace detlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

/// Evenly spaced test images (of those every entry evaluates) with their ground truth, for the detection
/// grid: samples/<name>.jpg and samples/ground_truth.json.
void write_samples(const RunConfig& rc, int count, const fs::path& dir) {
  Dataset test = split_of(rc, "test");
  int n = static_cast<int>(test.images.size());
  if (rc.eval.max_images > 0) n = std::min(n, rc.eval.max_images);
  count = std::min(count, n);
  fs::create_directories(dir);
  json j;
  j["format_version"] = 1;
  j["class_names"] = rc.dataset.class_names;
  j["category_ids"] = rc.dataset.category_ids;  // detections.json uses these
  j["images"] = json::array();
  for (int s = 0; s < count; ++s) {
    const int i = count == 1 ? 0 : static_cast<int>(static_cast<int64_t>(s) * (n - 1) / (count - 1));
    const ImageRecord& rec = test.images[i];
    const cv::Mat bgr = test.load_image(i);
    const std::string file = rec.name + ".jpg";
    std::vector<uchar> bytes;
    // JPEG quality 90: the committed reference folder stays small and boxes are drawn on top anyway.
    if (!cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, 90}))
      throw std::runtime_error("could not encode " + rec.name + " as JPEG");
    write_file_atomic(dir / file, std::string(bytes.begin(), bytes.end()));
    json objects = json::array();
    for (const Object& o : rec.objects)
      objects.push_back({{"box", {o.box.x1, o.box.y1, o.box.x2, o.box.y2}}, {"label", o.label}, {"difficult", o.difficult}});
    j["images"].push_back({{"id", rec.id}, {"name", rec.name}, {"file", file}, {"width", bgr.cols},
                           {"height", bgr.rows}, {"objects", objects}});
  }
  write_file_atomic(dir / "ground_truth.json", j.dump(1) + "\n");
}

/// samples/detections.json: each finished entry's detections (first seed) on the sample images only, so that
/// the detection grid can be redrawn from a results folder without the full detections.json files.
void write_sample_detections(const CompareResult& r, const fs::path& samples_dir) {
  const fs::path gt_file = samples_dir / "ground_truth.json";
  if (!fs::exists(gt_file)) return;
  std::set<int64_t> ids;
  const json gt = json::parse(read_file(gt_file));  // named: a range-for over a temporary's member dangles
  for (const json& img : gt.at("images")) ids.insert(img.at("id").get<int64_t>());
  json out = json::object();
  for (const EntryResult& e : r.entries) {
    if (e.runs.empty() || !fs::exists(e.runs.front().dir / "detections.json")) continue;
    json dets = json::array();
    for (const json& d : json::parse(read_file(e.runs.front().dir / "detections.json")))
      if (ids.count(d.at("image_id").get<int64_t>())) dets.push_back(d);
    out[e.entry.label] = dets;
  }
  write_file_atomic(samples_dir / "detections.json", out.dump(1) + "\n");
}

json manifest_json(const CompareSpec& spec, const CompareOptions& opts, const CompareResult& r,
                   const Environment& env, const std::string& started, const std::string& finished) {
  json m;
  m["format_version"] = 1;
  m["kind"] = "compare";
  m["name"] = spec.name;
  m["spec_file"] = spec.file.generic_string();
  m["spec"] = spec.resolved_yaml;
  m["quick"] = spec.quick;
  m["command_line"] = opts.command_line;
  m["started"] = started;
  m["finished"] = finished;
  m["wall_seconds"] = r.wall_seconds;
  m["environment"] = json::parse(environment_json(env));
  m["device"] = opts.device;
  m["threads"] = r.threads;  // library threads in use (--threads 0 resolved to the hardware threads)
  m["seeds"] = spec.seeds;
  m["overrides"] = opts.overrides;
  m["entries"] = json::array();
  for (const EntryResult& e : r.entries) {
    json je;
    je["label"] = e.entry.label;
    je["config_file"] = e.config_file;
    je["overrides"] = e.overrides;
    je["resolved_config"] = e.resolved_yaml;
    je["config_hash"] = e.config_hash;
    je["status"] = e.ok() ? "ok" : "failed";
    je["errors"] = e.errors;
    je["runs"] = json::array();
    for (size_t i = 0; i < e.runs.size(); ++i) {
      const RunOutcome& o = e.runs[i];
      je["runs"].push_back({{"seed", e.seeds[i]},
                            {"dir", o.dir.lexically_relative(r.out_dir).generic_string()},
                            {"train_key", o.keys.train},
                            {"eval_key", o.keys.eval},
                            {"trained", o.trained},
                            {"evaluated", o.evaluated},
                            {"train_seconds", std::isnan(o.train_seconds) ? json(nullptr) : json(o.train_seconds)},
                            {"train_cpu_seconds", std::isnan(o.train_cpu_seconds) ? json(nullptr) : json(o.train_cpu_seconds)},
                            {"eval_cpu_seconds", std::isnan(o.eval_cpu_seconds) ? json(nullptr) : json(o.eval_cpu_seconds)},
                            {"stale", o.stale},
                            {"manifest", o.manifest.empty() ? json(nullptr) : json::parse(o.manifest)}});
    }
    m["entries"].push_back(je);
  }
  m["proposals"] = json::array();
  for (const ProposalResult& p : r.proposals)
    m["proposals"].push_back({{"label", p.entry.label}, {"config_file", p.entry.config.generic_string()},
                              {"overrides", spec.overrides_for(p.entry, opts.overrides)},
                              {"error", p.error.empty() ? json(nullptr) : json(p.error)}});
  return m;
}

void run_entry(const CompareSpec& spec, const CompareOptions& opts, const fs::path& out, EntryResult& er,
               bool& samples_written, int sample_images) {
  const CompareEntry& e = er.entry;
  er.config_file = e.config.generic_string();
  er.overrides = spec.overrides_for(e, opts.overrides);
  for (uint64_t seed : spec.seeds) {
    std::cerr << "== " << e.label << " (seed " << seed << ")\n";
    try {
      if (!fs::exists(e.config)) throw InputError(e.config.string(), "", "config not found");
      const RunConfig rc = load_run_config(e.config, er.overrides);
      if (er.resolved_yaml.empty()) {
        er.resolved_yaml = rc.root.dump();
        er.config_hash = rc.root.child("detector").hash();
      }
      if (!samples_written && sample_images > 0) {
        write_samples(rc, sample_images, out / "samples");
        samples_written = true;
      }
      CachedRunOptions co;
      co.dir = out / "entries" / e.slug / ("seed_" + std::to_string(seed));
      co.seed = seed;
      co.threads = resolve_thread_count(opts.threads);
      co.device = opts.device;
      co.retrain = opts.retrain;
      co.reuse_stale = opts.reuse_stale;
      RunOutcome o = run_cached(rc, co);
      std::cerr << "   " << describe_outcome(o) << ": AP "
                << (o.metrics.coco ? format_fixed(o.metrics.coco_stat("AP"), 3) : "n/a") << "\n";
      er.seeds.push_back(seed);
      er.runs.push_back(std::move(o));
    } catch (const InputError& ex) {
      er.input_error = true;
      er.errors.push_back("seed " + std::to_string(seed) + ": " + one_line(ex.what()));
      std::cerr << "   failed: " << one_line(ex.what()) << "\n";
    } catch (const std::exception& ex) {
      er.errors.push_back("seed " + std::to_string(seed) + ": " + one_line(ex.what()));
      std::cerr << "   failed: " << one_line(ex.what()) << "\n";
    }
  }
}

}  // namespace

int CompareResult::exit_code() const {
  int code = 0;
  for (const EntryResult& e : entries)
    if (!e.ok()) code = e.input_error ? 2 : std::max(code, 1);
  for (const ProposalResult& p : proposals)
    if (!p.error.empty()) code = std::max(code, 1);
  if (!plot_error.empty()) code = std::max(code, 1);
  return code;
}

CompareResult run_compare(const CompareSpec& spec, const CompareOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string started = iso_time_utc(std::chrono::system_clock::now());
  const Environment env = probe_environment();
  CompareResult r;
  r.threads = resolve_thread_count(opts.threads);
  r.device = opts.device;
  r.out_dir = !opts.out_dir.empty() ? opts.out_dir
                                    : fs::path("results/runs") / (spec.name + (spec.quick ? "_quick" : ""));
  fs::create_directories(r.out_dir);

  bool samples_written = false;
  for (const CompareEntry& e : spec.entries) {
    EntryResult er;
    er.entry = e;
    run_entry(spec, opts, r.out_dir, er, samples_written, spec.sample_images);
    if (r.class_names.empty() && !er.runs.empty()) r.class_names = er.runs.front().metrics.class_names;
    r.entries.push_back(std::move(er));
  }

  for (const ProposalEntry& p : spec.proposals) {
    ProposalResult pr;
    pr.entry = p;
    pr.file = fs::path("proposals") / (p.slug + ".json");
    std::cerr << "== proposals: " << p.label << "\n";
    try {
      if (!fs::exists(p.config)) throw InputError(p.config.string(), "", "config not found");
      // "${out}" in a proposal entry's overrides names this comparison's folder: an RPN stage can load the
      // model a Faster R-CNN entry just trained (model: ${out}/entries/faster_r_cnn/seed_0).
      std::vector<std::string> overrides = spec.overrides_for(p, opts.overrides);
      for (std::string& o : overrides)
        for (size_t pos; (pos = o.find("${out}")) != std::string::npos;) o.replace(pos, 6, r.out_dir.generic_string());
      const RunConfig rc = load_run_config(p.config, overrides);
      ProposalCurveOptions po;
      for (const EntryResult& e : r.entries)
        for (const RunOutcome& o : e.runs) po.extra_key += o.keys.train + " ";
      po.out_file = r.out_dir / pr.file;
      po.label = p.label;
      po.max_images = spec.proposal_images;
      po.threads = opts.threads;
      po.recompute = opts.retrain;
      const ProposalCurve c = run_proposal_curve(rc, po);
      std::cerr << "   " << (c.reused ? "reused" : "computed") << ": " << c.proposals_per_image
                << " proposals per image, " << c.seconds_per_image << " s per image\n";
    } catch (const std::exception& ex) {
      pr.error = one_line(ex.what());
      std::cerr << "   failed: " << pr.error << "\n";
    }
    r.proposals.push_back(pr);
  }

  write_sample_detections(r, r.out_dir / "samples");
  write_table(r.out_dir / "table", compare_main_table(r));
  write_table(r.out_dir / "per_class", compare_class_table(r));
  write_table(r.out_dir / "timing", compare_timing_table(r));
  write_file_atomic(r.out_dir / "summary.json", compare_summary_json(r, spec.name, spec.quick));
  if (opts.plots) {
    r.plot_error = make_plots(r.out_dir, /*quiet=*/true);
    if (!r.plot_error.empty()) std::cerr << "warning: plots: " << r.plot_error << "\n";
  }
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const json manifest = manifest_json(spec, opts, r, env, started, iso_time_utc(std::chrono::system_clock::now()));
  write_file_atomic(r.out_dir / "manifest.json", manifest.dump(2) + "\n");
  return r;
}

std::string format_compare_table(const CompareResult& r) { return to_markdown(compare_main_table(r)); }

}  // namespace detlab
