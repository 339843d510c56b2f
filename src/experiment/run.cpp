// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// train_run / load_trained / evaluate_run.
#include "experiment/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/progress.h"
#include "eval/coco_eval.h"
#include "eval/detections.h"
#include "eval/report.h"
#include "pipeline/runtime.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  // Linear interpolation between closest ranks (numpy's default).
  const double pos = p * static_cast<double>(v.size() - 1);
  const size_t i = static_cast<size_t>(std::floor(pos));
  const size_t j = std::min(i + 1, v.size() - 1);
  return v[i] + (pos - static_cast<double>(i)) * (v[j] - v[i]);
}

/// An output folder holds one run. Refuses a folder whose config.yaml trained another detector or on other
/// data than rc (a run of the same config may continue or retrain there), before anything is written.
void refuse_foreign_folder(const RunConfig& rc, const fs::path& dir) {
  const fs::path stored = dir / "config.yaml";
  if (!fs::is_regular_file(stored)) return;
  const Config other = Config::load(stored);
  for (const std::string key : {"detector", "dataset"}) {
    const std::string mine = rc.root.has(key) ? rc.root.child(key).hash() : "";
    const std::string theirs = other.has(key) ? other.child(key).hash() : "";
    if (mine != theirs)
      throw InputError(stored.string(), key,
                       "the output folder holds a run of another config (its " + key + " differs from " +
                           rc.file.string() + "'s); choose another --out, or delete the folder to train anew");
  }
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
}

}  // namespace

TrainReport train_run(const RunConfig& rc, Detector& det, const TrainRunOptions& opts) {
  DETLAB_REQUIRE(!opts.out_dir.empty(), "train_run needs an output folder");
  const Dataset train = split_of(rc, "train");
  if (train.images.empty()) throw InputError(rc.file.string(), "dataset.train", "the training split is empty");
  refuse_foreign_folder(rc, opts.out_dir);
  fs::create_directories(opts.out_dir);
  // The folder's owner first: a killed run's folder is then claimed by its config (checked above on a rerun).
  write_file_atomic(opts.out_dir / "config.yaml", rc.root.dump() + "\n");
  TrainContext ctx;
  ctx.train = &train;
  ctx.out_dir = opts.out_dir;
  ctx.threads = opts.threads;
  ctx.seed = opts.seed;
  ctx.device = opts.device;
  ctx.resume = opts.resume;
  const LibraryThreads threads = library_threads();
  const auto t0 = std::chrono::steady_clock::now();
  det.fit(ctx);
  TrainReport report;
  report.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  report.num_parameters = det.num_parameters();
  report.train_images = static_cast<int>(train.images.size());
  nlohmann::json j;
  j["format_version"] = 1;
  j["name"] = rc.name;
  j["detector"] = std::string(det.name());
  j["config_hash"] = rc.root.child("detector").hash();
  j["train_seconds"] = report.train_seconds;
  j["num_parameters"] = report.num_parameters;
  j["train_images"] = report.train_images;
  j["threads"] = opts.threads;
  j["library_threads"] = {{"opencv", threads.opencv}, {"openblas", threads.openblas}, {"torch", threads.torch}};
  j["seed"] = opts.seed;
  write_file_atomic(opts.out_dir / "train.json", j.dump(2) + "\n");
  det.save(opts.out_dir);  // detector.json last: the folder is a model only once everything is in place
  return report;
}

std::unique_ptr<Detector> load_trained(const RunConfig& rc, const fs::path& model_dir) {
  std::unique_ptr<Detector> det = build_detector(rc);
  det->load(model_dir);
  return det;
}

EvalReport evaluate_run(const RunConfig& rc, Detector& det, const EvalRunOptions& opts) {
  Dataset gt = split_of(rc, opts.split);
  const int max_images = opts.max_images >= 0 ? opts.max_images : rc.eval.max_images;
  if (max_images > 0 && static_cast<int>(gt.images.size()) > max_images) {
    std::vector<int> first(max_images);
    for (int i = 0; i < max_images; ++i) first[i] = i;
    gt = gt.subset(first);
  }
  if (gt.images.empty()) throw InputError(rc.file.string(), "dataset." + opts.split, "the split has no images");

  DetectionSet dets;
  std::vector<double> total_ms;
  std::map<std::string, std::vector<double>> stage_ms;
  std::vector<std::string> stage_order;
  {
    ProgressBar bar("detect " + rc.name + " (" + opts.split + ")", static_cast<int64_t>(gt.images.size()), "img");
    for (size_t i = 0; i < gt.images.size(); ++i) {
      Image img{gt.images[i].name, gt.load_image(i)};
      StageTimes times;
      const auto t0 = std::chrono::steady_clock::now();
      Detections d = det.detect(img, &times);
      total_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      for (const auto& [stage, ms] : times) {
        if (!stage_ms.count(stage)) stage_order.push_back(stage);
        stage_ms[stage].push_back(ms);
      }
      dets.push_back({gt.images[i].id, std::move(d)});
      bar.tick();
    }
  }

  EvalReport r;
  r.images = static_cast<int>(gt.images.size());
  r.ms_per_image = mean(total_ms);
  r.ms_per_image_p90 = percentile(total_ms, 0.9);
  r.threads = library_threads();
  r.stage_order = stage_order;
  for (const std::string& s : stage_order) {
    r.stage_ms[s] = mean(stage_ms[s]);
    r.stage_p90_ms[s] = percentile(stage_ms[s], 0.9);
  }

  // Every file the config's eval section asks for, written by the same code as `detlab eval --gt --dt`;
  // metrics.json last, once its extra section (which needs the evaluation) is complete.
  ReportOptions ro = report_options(rc.eval, opts.out_dir);
  ro.metrics_json.clear();
  ro.eval.threads = opts.threads;
  ro.ms_per_image = r.ms_per_image;
  ro.stage_ms = r.stage_ms;
  if (!opts.out_dir.empty()) fs::create_directories(opts.out_dir);
  Report report = evaluate_and_report(gt, dets, ro);
  r.evaluation = std::move(report.evaluation);
  r.text = std::move(report.text);

  nlohmann::json extra;
  extra["images"] = r.images;
  extra["split"] = opts.split;
  extra["detector"] = std::string(det.name());
  extra["ms_per_image_p90"] = r.ms_per_image_p90;
  extra["threads"] = {{"opencv", r.threads.opencv}, {"openblas", r.threads.openblas}, {"torch", r.threads.torch}};
  extra["stages_p90"] = nlohmann::json::object();
  for (const std::string& s : stage_order) extra["stages_p90"][s] = r.stage_p90_ms[s];
  if (r.evaluation.coco) {
    nlohmann::json per_class = nlohmann::json::object();
    for (int k = 0; k < gt.num_classes(); ++k) {
      r.coco_per_class.push_back({coco_class_ap(*r.evaluation.coco, k), coco_class_ap(*r.evaluation.coco, k, 0.5)});
      per_class[gt.class_names[k]] = {{"AP", r.coco_per_class.back()[0]}, {"AP50", r.coco_per_class.back()[1]}};
    }
    extra["coco_per_class"] = per_class;
  }
  r.evaluation.metrics.extra_json = extra.dump();
  if (!opts.out_dir.empty()) {
    write_coco_results(opts.out_dir / "detections.json", gt, dets);
    write_metrics_json(opts.out_dir / "metrics.json", r.evaluation.metrics);
  }
  return r;
}

std::string format_run_report(const EvalReport& r, const std::vector<std::string>& class_names) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(3);
  if (!r.coco_per_class.empty()) {
    os << "per class (COCO AP / AP50):";
    for (size_t k = 0; k < r.coco_per_class.size() && k < class_names.size(); ++k)
      os << (k ? ", " : " ") << class_names[k] << " " << r.coco_per_class[k][0] << " / " << r.coco_per_class[k][1];
    os << "\n";
  }
  os << std::setprecision(1) << "images: " << r.images << ", ms per image: " << r.ms_per_image << " (p90 "
     << r.ms_per_image_p90 << "; threads: " << r.threads.describe() << ")";
  for (const auto& [stage, ms] : r.stage_ms) os << ", " << stage << " " << ms;
  os << "\n";
  return os.str();
}

}  // namespace detlab
