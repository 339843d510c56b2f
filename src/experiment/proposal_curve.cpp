// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// run_proposal_curve: one proposal stage on the test split, recall at N proposals, cached JSON.
#include "experiment/proposal_curve.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/progress.h"
#include "core/parallel.h"
#include "pipeline/registries.h"

namespace detlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kCurveFormatVersion = 1;

std::string curve_key(const RunConfig& rc, const Config& det, int images, const std::string& extra) {
  std::string text = "dataset:\n" + rc.root.child("dataset").dump() + "\nproposals:\n" +
                     det.child("proposals").dump() + "\nimages: " + std::to_string(images) + "\nextra: " + extra + "\n";
  if (det.has("backbone")) text += "backbone:\n" + det.child("backbone").dump() + "\n";
  return fnv1a_hex(text);
}

json vec(const std::vector<double>& v) {
  json j = json::array();
  for (double x : v) j.push_back(std::isnan(x) ? json(nullptr) : json(x));
  return j;
}

std::vector<double> vec_of(const json& j) {
  std::vector<double> v;
  for (const json& x : j) v.push_back(x.is_number() ? x.get<double>() : std::nan(""));
  return v;
}

}  // namespace

ProposalCurve run_proposal_curve(const RunConfig& rc, const ProposalCurveOptions& opts) {
  DETLAB_REQUIRE(!opts.out_file.empty(), "run_proposal_curve needs an output file");
  const Config det = rc.root.child("detector");
  if (!det.is_map() || !det.has("proposals"))
    throw InputError(rc.file.string(), "detector.proposals", "the detector has no proposal stage");

  Dataset gt = split_of(rc, "test");
  const int max_images = opts.max_images > 0 ? opts.max_images : rc.eval.max_images;
  if (max_images > 0 && static_cast<int>(gt.images.size()) > max_images) {
    std::vector<int> first(max_images);
    for (int i = 0; i < max_images; ++i) first[i] = i;
    gt = gt.subset(first);
  }
  if (gt.images.empty()) throw InputError(rc.file.string(), "dataset.test", "the split has no images");
  const int n = static_cast<int>(gt.images.size());
  const std::string key = curve_key(rc, det, n, opts.extra_key);

  ProposalCurve curve;
  if (!opts.recompute && fs::exists(opts.out_file)) {
    try {
      const json j = json::parse(read_file(opts.out_file));
      if (j.value("format_version", 0) == kCurveFormatVersion && j.value("key", "") == key) {
        curve.reused = true;
        curve.images = j.at("images").get<int>();
        curve.recall.num_gt = j.at("num_gt").get<int64_t>();
        curve.recall.top_n = j.at("top_n").get<std::vector<int>>();
        curve.recall.recall_50 = vec_of(j.at("recall_50"));
        curve.recall.recall_70 = vec_of(j.at("recall_70"));
        curve.recall.average_recall = vec_of(j.at("average_recall"));
        curve.seconds_per_image = j.at("seconds_per_image").get<double>();
        curve.proposals_per_image = j.at("proposals_per_image").get<double>();
        return curve;
      }
    } catch (const std::exception&) {
      // An unreadable cache file is recomputed below.
    }
  }

  BuildContext ctx;
  ctx.registries = &builtin_registries();
  ctx.class_names = rc.dataset.class_names;
  std::unique_ptr<BackboneStage> backbone;
  if (det.has("backbone")) {
    backbone = ctx.registries->backbones.build(det.child("backbone"), ctx);
    ctx.backbone = backbone->output_shape();
  }
  std::unique_ptr<ProposalStage> stage = ctx.registries->proposals.build(det.child("proposals"), ctx);
  stage->fit(split_of(rc, "train"));

  std::vector<ImageProposals> props(n);
  std::vector<double> seconds(n, 0.0);
  {
    ProgressBar bar("proposals " + opts.label, n, "img");
    // A backbone (torch) runs its own threads: one image at a time then.
    parallel_for(n, backbone ? 1 : opts.threads, [&](int i, int) {
      Image img{gt.images[i].name, gt.load_image(i)};
      ImageContext ictx;
      ictx.image = &img;
      const auto t0 = std::chrono::steady_clock::now();
      if (backbone) backbone->forward(ictx);
      props[i] = {gt.images[i].id, stage->propose(ictx)};
      seconds[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      bar.tick();
    });
  }
  curve.recall = evaluate_proposal_recall(gt, props, ProposalRecallOptions{});
  curve.images = n;
  double total_s = 0, total_p = 0;
  for (int i = 0; i < n; ++i) total_s += seconds[i], total_p += static_cast<double>(props[i].proposals.size());
  curve.seconds_per_image = total_s / n;
  curve.proposals_per_image = total_p / n;

  json j;
  j["format_version"] = kCurveFormatVersion;
  j["key"] = key;
  j["label"] = opts.label;
  j["stage"] = std::string(stage->name());
  j["images"] = n;
  j["num_gt"] = curve.recall.num_gt;
  j["top_n"] = curve.recall.top_n;
  j["recall_50"] = vec(curve.recall.recall_50);
  j["recall_70"] = vec(curve.recall.recall_70);
  j["average_recall"] = vec(curve.recall.average_recall);
  j["seconds_per_image"] = curve.seconds_per_image;
  j["proposals_per_image"] = curve.proposals_per_image;
  if (opts.out_file.has_parent_path()) fs::create_directories(opts.out_file.parent_path());
  write_file_atomic(opts.out_file, j.dump(2) + "\n");
  return curve;
}

}  // namespace detlab
