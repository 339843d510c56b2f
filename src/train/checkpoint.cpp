// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Checkpoint and weight files: a LibTorch archive with a format name, a version, tensors by name and JSON.
#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <cstdio>
#include <mutex>
#include <cstring>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/hash.h"
#include "train/optim.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCheckpointFormat = "detlab-checkpoint";

c10::Dict<std::string, at::Tensor> state_dict(const torch::nn::Module& module) {
  c10::Dict<std::string, at::Tensor> d;
  for (const auto& p : module.named_parameters(true)) d.insert(p.key(), p.value().detach().to(torch::kCPU));
  for (const auto& b : module.named_buffers(true))
    if (b.value().defined()) d.insert(b.key(), b.value().detach().to(torch::kCPU));
  return d;
}

// Version 2 files end with a trailer: kTrailerMagic, then the FNV-1a of every byte before the trailer. LibTorch
// reads its zip archives without checking their CRCs, so without it a flipped bit in a tensor would load.
constexpr char kTrailerMagic[8] = {'D', 'L', 'C', 'K', 'S', 'U', 'M', '\0'};
constexpr size_t kTrailerSize = 16;

void write_archive(const fs::path& file, torch::serialize::OutputArchive& archive) {
  std::ostringstream bytes;
  archive.save_to(bytes);
  std::string data = bytes.str();
  const uint64_t sum = Fnv1a().update(data).value();
  data.append(kTrailerMagic, sizeof kTrailerMagic);
  for (int i = 0; i < 8; ++i) data += static_cast<char>((sum >> (8 * i)) & 0xff);
  write_file_atomic(file, data);
}

/// Opens a checkpoint archive and checks its checksum, format name and version.
void open_archive(const fs::path& file, const torch::Device& device, torch::serialize::InputArchive& archive) {
  if (!fs::is_regular_file(file)) throw InputError(file.string(), "", "file not found");
  const std::string data = read_file(file);
  size_t archive_size = data.size();
  bool checked = false;
  if (data.size() >= kTrailerSize &&
      std::memcmp(data.data() + data.size() - kTrailerSize, kTrailerMagic, sizeof kTrailerMagic) == 0) {
    archive_size = data.size() - kTrailerSize;
    uint64_t stored = 0;
    for (int i = 0; i < 8; ++i)
      stored |= static_cast<uint64_t>(static_cast<unsigned char>(data[archive_size + 8 + i])) << (8 * i);
    if (Fnv1a().update(data.data(), archive_size).value() != stored)
      throw InputError(file.string(), "checksum", "mismatch: the checkpoint is corrupt (a changed or lost byte)");
    checked = true;
  }
  try {
    archive.load_from(data.data(), archive_size, device);
  } catch (const c10::Error& e) {
    throw InputError(file.string(), "",
                     "not a readable detlab checkpoint (" + std::string(e.what_without_backtrace()).substr(0, 120) + ")");
  }
  c10::IValue f, v;
  if (!archive.try_read("format", f) || !f.isString() || f.toStringRef() != kCheckpointFormat)
    throw InputError(file.string(), "format", std::string("not a detlab checkpoint (expected format '") +
                                                  kCheckpointFormat + "')");
  if (!archive.try_read("version", v) || !v.isInt()) throw InputError(file.string(), "version", "missing format version");
  if (v.toInt() != 1 && v.toInt() != kCheckpointVersion)
    throw InputError(file.string(), "version",
                     "unsupported format version " + std::to_string(v.toInt()) + " (this build reads versions 1 and " +
                         std::to_string(kCheckpointVersion) + ")");
  if (v.toInt() == kCheckpointVersion && !checked)
    throw InputError(file.string(), "checksum", "missing: the checkpoint is truncated");
}

/// Copies the archive's model state into the module; every name must match in both directions, with equal shapes.
void load_model(const fs::path& file, torch::serialize::InputArchive& archive, torch::nn::Module& module) {
  c10::IValue m;
  if (!archive.try_read("model", m) || !m.isGenericDict()) throw InputError(file.string(), "model", "missing model state");
  const c10::impl::GenericDict saved = m.toGenericDict();
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (const auto& p : module.named_parameters(true)) targets.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers(true))
    if (b.value().defined()) targets.emplace_back(b.key(), b.value());
  // Check everything before changing anything, so that a failed load leaves the module as it was.
  std::vector<torch::Tensor> sources;
  for (const auto& [name, dst] : targets) {
    auto it = saved.find(name);
    if (it == saved.end()) throw InputError(file.string(), "model." + name, "not in the file (the model has it)");
    const torch::Tensor src = it->value().toTensor();
    if (src.sizes() != dst.sizes())
      throw InputError(file.string(), "model." + name,
                       "shape " + c10::str(src.sizes()) + " in the file, " + c10::str(dst.sizes()) + " in the model");
    sources.push_back(src);
  }
  if (saved.size() != targets.size()) {
    std::set<std::string> names;
    for (const auto& t : targets) names.insert(t.first);
    for (const auto& kv : saved)
      if (!names.count(kv.key().toStringRef()))
        throw InputError(file.string(), "model." + kv.key().toStringRef(), "not in the model (the file has it)");
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < targets.size(); ++i) targets[i].second.copy_(sources[i]);
}

nlohmann::json to_json(const TrainProgress& p) {
  return {{"iteration", p.iteration},   {"epoch", p.epoch},
          {"elapsed_seconds", p.elapsed_seconds}, {"seed", p.seed},
          {"batch_size", p.batch_size}, {"dataset_size", p.dataset_size},
          {"total_iterations", p.total_iterations}, {"log_sums", p.log_sums},
          {"log_count", p.log_count}};
}

TrainProgress from_json(const fs::path& file, const std::string& text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    TrainProgress p;
    p.iteration = j.at("iteration").get<int64_t>();
    p.epoch = j.at("epoch").get<int64_t>();
    p.elapsed_seconds = j.at("elapsed_seconds").get<double>();
    p.seed = j.at("seed").get<uint64_t>();
    p.batch_size = j.at("batch_size").get<int64_t>();
    p.dataset_size = j.at("dataset_size").get<int64_t>();
    p.total_iterations = j.at("total_iterations").get<int64_t>();
    p.log_sums = j.at("log_sums").get<std::map<std::string, double>>();
    p.log_count = j.at("log_count").get<int64_t>();
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string(), "progress", e.what());
  }
}

}  // namespace

void save_checkpoint(const fs::path& file, const torch::nn::Module& module, const GroupedOptimizer* optimizer,
                     const TrainProgress& progress) {
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kCheckpointFormat)));
  archive.write("version", c10::IValue(kCheckpointVersion));
  archive.write("model", c10::IValue(state_dict(module)));
  if (optimizer) {
    torch::serialize::OutputArchive opt(archive.compilation_unit());
    optimizer->save(opt);
    archive.write("optimizer", opt);
  }
  archive.write("progress", c10::IValue(to_json(progress).dump()));
  {
    at::Generator gen = at::detail::getDefaultCPUGenerator();  // a handle to the process-wide generator
    std::lock_guard<std::mutex> lock(gen.mutex());
    archive.write("rng_cpu", gen.get_state());
  }
  write_archive(file, archive);
}

TrainProgress load_checkpoint(const fs::path& file, torch::nn::Module& module, GroupedOptimizer* optimizer,
                              const torch::Device& device) {
  torch::serialize::InputArchive archive;
  open_archive(file, device, archive);
  load_model(file, archive, module);
  if (optimizer) {
    torch::serialize::InputArchive opt;
    if (!archive.try_read("optimizer", opt)) throw InputError(file.string(), "optimizer", "missing optimizer state");
    try {
      optimizer->load(opt);
    } catch (const c10::Error& e) {
      throw InputError(file.string(), "optimizer", std::string("does not fit this optimizer: ") + e.what_without_backtrace());
    }
  }
  c10::IValue progress;
  if (!archive.try_read("progress", progress) || !progress.isString())
    throw InputError(file.string(), "progress", "missing");
  torch::Tensor rng;
  if (!archive.try_read("rng_cpu", rng)) throw InputError(file.string(), "rng_cpu", "missing");
  {
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng.to(torch::kCPU));
  }
  return from_json(file, progress.toStringRef());
}

void load_checkpoint_model(const fs::path& file, torch::nn::Module& module) {
  torch::serialize::InputArchive archive;
  open_archive(file, torch::kCPU, archive);
  load_model(file, archive, module);
}

CheckpointDir::CheckpointDir(fs::path dir, int keep) : dir_(std::move(dir)), keep_(keep) {}

std::optional<fs::path> CheckpointDir::latest() const {
  const fs::path pointer = dir_ / "latest";
  if (!fs::exists(pointer)) return std::nullopt;
  std::string name = read_file(pointer);
  while (!name.empty() && (name.back() == '\n' || name.back() == '\r' || name.back() == ' ')) name.pop_back();
  const fs::path file = dir_ / name;
  if (name.empty() || name.find('/') != std::string::npos || !fs::is_regular_file(file))
    throw InputError(pointer.string(), "", "names a missing checkpoint '" + name + "'");
  return file;
}

std::vector<fs::path> CheckpointDir::all() const {
  std::vector<fs::path> ckpts;
  if (!fs::is_directory(dir_)) return ckpts;
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string n = e.path().filename().string();
    if (n.rfind("ckpt_", 0) == 0 && e.path().extension() == ".pt" && n.find(".tmp.") == std::string::npos)
      ckpts.push_back(e.path());
  }
  std::sort(ckpts.rbegin(), ckpts.rend());  // zero-padded iteration numbers sort by name
  return ckpts;
}

fs::path CheckpointDir::save(const torch::nn::Module& module, const GroupedOptimizer* optimizer,
                             const TrainProgress& progress) {
  fs::create_directories(dir_);
  char name[64];
  std::snprintf(name, sizeof name, "ckpt_%08lld.pt", static_cast<long long>(progress.iteration));
  const fs::path file = dir_ / name;
  save_checkpoint(file, module, optimizer, progress);
  write_file_atomic(dir_ / "latest", std::string(name) + "\n");
  // Prune: temporaries a killed run left behind, and the older checkpoints beyond `keep` (all() lists the
  // newest first).
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().filename().string().find(".tmp.") == std::string::npos) continue;
    std::error_code ec;
    fs::remove(e.path(), ec);
  }
  if (keep_ > 0) {
    const std::vector<fs::path> ckpts = all();
    for (size_t i = static_cast<size_t>(keep_); i < ckpts.size(); ++i)
      if (ckpts[i] != file) fs::remove(ckpts[i]);
  }
  return file;
}

}  // namespace detlab
