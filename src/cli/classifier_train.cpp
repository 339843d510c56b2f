// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// train_classifier: the classification path of `detlab train`.
#include "cli/classifier_train.h"

#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "detectors/crop_classifier.h"
#include "nn/backbones/make_backbone.h"
#include "pipeline/registries.h"
#include "tensor/runtime.h"

namespace detlab::cli {

namespace fs = std::filesystem;

std::unique_ptr<CropClassifier> build_classifier(const RunConfig& rc) {
  if (rc.root.has("detector"))
    throw InputError(rc.file.string(), "classifier", "a config has either a detector or a classifier, not both");
  return build_crop_classifier(rc.root.child("classifier"), rc.dataset.class_names);
}

int train_classifier(const RunConfig& rc, const CommonOptions& common, const std::string& out, bool evaluate) {
  // Before the build: LibTorch seeds its generator nondeterministically, and the build draws the initial weights.
  seed_component_init(common.seed);
  std::unique_ptr<CropClassifier> c = build_classifier(rc);
  const Dataset train = split_of(rc, "train");
  if (train.images.empty()) throw InputError(rc.file.string(), "dataset.train", "the training split is empty");
  const fs::path dir = out.empty() ? fs::path("results/runs") / rc.name : fs::path(out);
  fs::create_directories(dir);
  EngineContext ctx;
  ctx.out_dir = dir;
  ctx.device = common.device;
  ctx.threads = common.threads;
  ctx.seed = common.seed;
  ctx.quiet = common.quiet;
  seed_everything(common.seed);
  const auto t0 = std::chrono::steady_clock::now();
  const TrainResult tr = c->fit(train, ctx);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_file_atomic(dir / "config.yaml", rc.root.dump() + "\n");
  nlohmann::json j;
  j["format_version"] = 1;
  j["name"] = rc.name;
  j["classifier"] = "crop_classifier";
  j["config_hash"] = rc.root.child("classifier").hash();
  j["train_seconds"] = seconds;
  j["iterations"] = tr.iterations;
  j["num_parameters"] = count_parameters(*c->net());
  j["train_images"] = train.images.size();
  j["threads"] = common.threads;
  j["seed"] = common.seed;
  write_file_atomic(dir / "train.json", j.dump(2) + "\n");
  c->save(dir);  // the header last: a folder is a model only once everything is in place
  std::cout << "trained " << rc.name << " (crop_classifier, " << c->options().backbone << ") on " << train.images.size()
            << " images in " << seconds << " s, " << count_parameters(*c->net()) << " parameters -> " << dir.string()
            << "\n";
  if (evaluate) {
    const Dataset test = split_of(rc, "test");
    const ClassificationReport r = c->evaluate(test, common.seed + 1, !common.quiet);  // other background crops
    r.write_json(dir / "classification.json");
    std::cout << "test split (" << test.images.size() << " images), crops of ground-truth boxes + background:\n"
              << r.table() << "wrote " << (dir / "classification.json").string() << "\n";
  }
  return 0;
}

}  // namespace detlab::cli
