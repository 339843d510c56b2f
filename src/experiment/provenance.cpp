// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RunInputs: the parts of a cached run's key, and how two of them differ.
#include "experiment/provenance.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/hash.h"
#include "data/content_hash.h"

namespace detlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// Every scalar string under node (a clone: reading marks keys consumed).
void strings_of(const Config& node, std::vector<std::string>& out) {
  if (node.is_map()) {
    for (const std::string& k : node.keys()) strings_of(node.child(k), out);
  } else if (node.is_sequence()) {
    for (size_t i = 0; i < node.size(); ++i) strings_of(node.at(i), out);
  } else if (node.is_scalar()) {
    out.push_back(node.as<std::string>());
  }
}

/// A folder another run wrote is identified by its train key (model_key.json), which already covers its
/// config, data, seed and code; other folders by their files (checkpoints, which resume writes, left out).
std::string folder_hash(const fs::path& dir) {
  const fs::path key_file = dir / "model_key.json";
  if (fs::exists(key_file)) {
    try {
      const json j = json::parse(read_file(key_file));
      if (j.contains("train_key")) return "model " + j.at("train_key").get<std::string>();
    } catch (const json::exception&) {
      // not a model key: fall through to the files
    }
  }
  Fnv1a h;
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory() && it->path().filename() == "checkpoints") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files)
    h.update(f.lexically_relative(dir).generic_string()).update(" ").update(file_content_hash(f)).update("\n");
  return h.hex();
}

/// Files of every component in the detector node, the roots of its code identity: those named after each
/// `type`, and, for the slots of a staged detector, after the slot's key, because there the key picks the
/// registry that builds the type (`backbone: {type: small_resnet}` is a backbone stage, features/backbone.cpp,
/// over nn/backbones). Elsewhere a key names no component: a network detector's `backbone:` node is read by
/// its own family's code, and naming the backbone stage there would tie YOLO to the R-CNN family's heads.
void component_roots(const Config& node, std::vector<std::string>& roots, const std::string& key = "",
                     bool staged_slot = false) {
  if (node.is_map()) {
    if (staged_slot)
      for (const std::string& f : component_files(key)) roots.push_back(f);
    const bool typed = node.has("type") && node.child("type").is_scalar();
    const bool staged = typed && node.get<std::string>("type") == "staged";
    if (typed)
      for (const std::string& f : component_files(node.get<std::string>("type"))) roots.push_back(f);
    // A staged detector whose torch stages learn is trained by the joint trainer (rcnn_training.h); the
    // meta-architecture file includes it for them, but classical pipelines never reach its networks, so the
    // walk leaves that edge out (code_identity's excluded edges) and such detectors name it here.
    if (staged && node.has("train")) roots.push_back("detectors/rcnn_training.cpp");
    for (const std::string& k : node.keys()) component_roots(node.child(k), roots, k, staged);
  } else if (node.is_sequence()) {
    for (size_t i = 0; i < node.size(); ++i) component_roots(node.at(i), roots, key, staged_slot);
  }
}

std::string join(const std::vector<std::string>& v, size_t max) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > max) s += ", ... (" + std::to_string(v.size() - max) + " more)";
  return s;
}

}  // namespace

std::string RunInputs::key() const {
  return fnv1a_hex("config " + config + "\ndata " + data + "\nseed " + std::to_string(seed) + "\nthreads " +
                   std::to_string(threads) + "\ndevice " + device + "\ncode " + code.hash + "\n");
}

json RunInputs::to_json() const {
  return {{"config", config}, {"data", data},       {"seed", seed},
          {"threads", threads}, {"device", device}, {"code", {{"hash", code.hash}, {"files", code.files}}}};
}

RunInputs RunInputs::from_json(const json& j) {
  RunInputs r;
  r.config = j.at("config").get<std::string>();
  r.data = j.at("data").get<std::string>();
  r.seed = j.at("seed").get<uint64_t>();
  r.threads = j.at("threads").get<int>();
  r.device = j.at("device").get<std::string>();
  r.code.hash = j.at("code").at("hash").get<std::string>();
  r.code.files = j.at("code").at("files").get<std::map<std::string, std::string>>();
  return r;
}

std::string run_data_hash(const RunConfig& rc) {
  Fnv1a h;
  h.update("dataset ").update(content_hash(rc.dataset)).update("\n");
  std::vector<std::string> values;
  strings_of(rc.root.clone().child("detector"), values);
  std::set<std::string> seen;
  for (const std::string& v : values) {
    if (v.find_first_of("/.") == std::string::npos || !seen.insert(v).second) continue;
    std::error_code ec;
    if (!fs::exists(v, ec)) continue;
    h.update(v).update(" ").update(fs::is_directory(v) ? folder_hash(v) : file_content_hash(v)).update("\n");
  }
  return h.hex();
}

RunInputs train_inputs(const RunConfig& rc, const std::string& data_hash, uint64_t seed, int threads,
                       const std::string& device, const std::vector<std::string>& eval_only) {
  Config stripped = rc.root.clone();
  for (const std::string& key : eval_only) stripped.set(key, "null");
  RunInputs in;
  in.config = fnv1a_hex("dataset:\n" + rc.root.child("dataset").dump() + "\ndetector:\n" +
                        stripped.child("detector").dump() + "\n");
  in.data = data_hash;
  in.seed = seed;
  in.threads = threads;
  in.device = device;
  std::vector<std::string> roots = {"data/read_dataset.cpp"};
  component_roots(rc.root.clone().child("detector"), roots);
  in.code = code_identity(roots);
  return in;
}

RunInputs eval_inputs(const RunConfig& rc, const RunInputs& train, const std::string& split) {
  RunInputs in = train;
  const std::string eval = rc.root.has("eval") ? rc.root.child("eval").dump() : std::string("~");
  in.config = fnv1a_hex("train " + train.config + "\ndetector:\n" + rc.root.child("detector").dump() + "\neval:\n" +
                        eval + "\nsplit: " + split + "\n");
  std::vector<std::string> roots;
  for (const auto& [path, hash] : train.code.files) roots.push_back(path);
  for (const char* harness : {"experiment/run.cpp", "experiment/eval_settings.cpp", "eval/report.cpp"})
    roots.push_back(harness);
  in.code = code_identity(roots);
  return in;
}

std::vector<std::string> describe_changes(const RunInputs& before, const RunInputs& now) {
  std::vector<std::string> out;
  if (before.config != now.config) out.push_back("config");
  if (before.seed != now.seed) out.push_back("seed " + std::to_string(before.seed) + " -> " + std::to_string(now.seed));
  if (before.data != now.data) out.push_back("data");
  if (before.threads != now.threads)
    out.push_back("threads " + std::to_string(before.threads) + " -> " + std::to_string(now.threads));
  if (before.device != now.device) out.push_back("device " + before.device + " -> " + now.device);
  if (before.code.hash != now.code.hash) out.push_back("code: " + join(changed_files(before.code.files, now.code.files), 5));
  return out;
}

bool same_config_and_seed(const RunInputs& a, const RunInputs& b) { return a.config == b.config && a.seed == b.seed; }

}  // namespace detlab
