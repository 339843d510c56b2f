// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Experiment configs: loading, data set construction, detector construction.
#include "experiment/run_config.h"

#include <set>

#include "core/error.h"
#include "data/formats.h"
#include "data/synthetic.h"
#include "pipeline/registries.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

/// Top-level keys of an experiment config. Other layers (compare, ablate) add theirs here.
const std::set<std::string>& known_top_level() {
  static const std::set<std::string> keys = {"name", "dataset", "detector", "eval", "classifier"};  // classifier: viz/
  return keys;
}

void read_dataset_section(RunConfig& rc) {
  const Config d = rc.root.child("dataset");
  if (!d.is_map()) throw InputError(d.file(), d.path(), "expected a map {path: ..., format: ...} or {type: synthetic}");
  const std::string type = d.get<std::string>("type", "files");
  if (type == "synthetic") {
    rc.dataset = make_synthetic(parse_synthetic(d));
  } else if (type == "files") {
    const std::string path = d.get<std::string>("path");
    ReadOptions ro;
    ro.classes = d.get<std::vector<std::string>>("classes", ro.classes);
    const std::string format = d.get<std::string>("format", "auto");
    rc.dataset = read_dataset(path, format, ro);
  } else {
    throw InputError(d.file(), d.child_path("type"), "expected synthetic, or no type with a path, got '" + type + "'");
  }
  rc.train_split = d.get<std::string>("train", rc.train_split);
  rc.val_split = d.get<std::string>("val", rc.val_split);
  rc.test_split = d.get<std::string>("test", rc.test_split);
  d.expect_consumed();
  for (const auto& [key, name] : {std::pair<const char*, const std::string*>{"train", &rc.train_split},
                                  {"test", &rc.test_split}}) {
    if (name->empty() || *name == "all" || rc.dataset.splits.count(*name)) continue;
    std::string known;
    for (const auto& kv : rc.dataset.splits) known += (known.empty() ? "" : ", ") + kv.first;
    throw InputError(d.file(), d.child_path(key),
                     "data set has no split '" + *name + "' (splits: " + (known.empty() ? "none" : known) + ")");
  }
}

RunConfig finish(Config root, const fs::path& file, const std::vector<std::string>& overrides) {
  RunConfig rc;
  rc.root = std::move(root);
  rc.root.apply_overrides(overrides);
  rc.file = file;
  if (!rc.root.is_map()) throw InputError(file.string(), "", "an experiment config must be a YAML map");
  for (const std::string& k : rc.root.keys())
    if (!known_top_level().count(k))
      throw InputError(rc.root.file(), k, "unknown top-level key (expected name, dataset, detector, eval)");
  rc.name = rc.root.get<std::string>("name", file.stem().string());
  if (!rc.root.has("dataset")) throw InputError(file.string(), "dataset", "missing (where the images come from)");
  if (!rc.root.has("detector") && !rc.root.has("classifier"))  // classifier: a classification config (viz/)
    throw InputError(file.string(), "detector", "missing (what to train / evaluate)");
  read_dataset_section(rc);
  if (rc.root.has("eval")) rc.eval = parse_eval_settings(rc.root.child("eval"));
  return rc;
}

}  // namespace

RunConfig load_run_config(const fs::path& file, const std::vector<std::string>& overrides) {
  return finish(Config::load(file), file, overrides);
}

RunConfig parse_run_config(const std::string& yaml, const std::vector<std::string>& overrides,
                           const std::string& source) {
  return finish(Config::parse(yaml, source), source, overrides);
}

Dataset split_of(const RunConfig& rc, const std::string& which) {
  std::string name = which;
  if (which == "train") name = rc.train_split;
  if (which == "val") name = rc.val_split;
  if (which == "test") name = rc.test_split;
  if (name == "all" || name.empty()) return rc.dataset;
  return rc.dataset.subset(name);
}

std::unique_ptr<Detector> build_detector(const RunConfig& rc, uint64_t seed) {
  seed_component_init(seed);
  BuildContext ctx;
  ctx.registries = &builtin_registries();
  ctx.class_names = rc.dataset.class_names;
  const Config node = rc.root.child("detector");
  if (!node.is_map() || !node.has("type"))
    throw InputError(node.file(), node.path(), "expected a map with a `type` (see detlab list)");
  return ctx.registries->detectors.build(node, ctx);
}

}  // namespace detlab
