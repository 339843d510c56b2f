// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Checkpoint and weight files: a LibTorch archive with a format name, a version, tensors by name and JSON.
#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <cstdio>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "train/optim.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCheckpointFormat = "detlab-checkpoint";
constexpr const char* kWeightsFormat = "detlab-weights";

c10::Dict<std::string, at::Tensor> state_dict(const torch::nn::Module& module) {
  c10::Dict<std::string, at::Tensor> d;
  for (const auto& p : module.named_parameters(true)) d.insert(p.key(), p.value().detach().to(torch::kCPU));
  for (const auto& b : module.named_buffers(true))
    if (b.value().defined()) d.insert(b.key(), b.value().detach().to(torch::kCPU));
  return d;
}

void write_archive(const fs::path& file, torch::serialize::OutputArchive& archive) {
  AtomicFile out(file, std::ios::binary);
  archive.save_to(out.stream());
  out.commit();
}

/// Opens an archive and checks its format name (one of `formats`) and version; returns the format name.
std::string open_archive(const fs::path& file, const std::vector<std::string>& formats, const torch::Device& device,
                         torch::serialize::InputArchive& archive) {
  if (!fs::is_regular_file(file)) throw InputError(file.string(), "", "file not found");
  try {
    archive.load_from(file.string(), device);
  } catch (const c10::Error& e) {
    throw InputError(file.string(), "",
                     "not a readable detlab file (" + std::string(e.what_without_backtrace()).substr(0, 120) + ")");
  }
  c10::IValue f, v;
  if (!archive.try_read("format", f) || !f.isString())
    throw InputError(file.string(), "format", "missing: not a detlab checkpoint or weights file");
  const std::string format = f.toStringRef();
  if (std::find(formats.begin(), formats.end(), format) == formats.end())
    throw InputError(file.string(), "format", "a '" + format + "' file, not a " + (formats[0] == kCheckpointFormat ? "checkpoint" : "weights file"));
  if (!archive.try_read("version", v) || !v.isInt())
    throw InputError(file.string(), "version", "missing format version");
  const int64_t expected = format == kCheckpointFormat ? kCheckpointVersion : kWeightsVersion;
  if (v.toInt() != expected)
    throw InputError(file.string(), "version",
                     "unsupported format version " + std::to_string(v.toInt()) + " (this build reads version " +
                         std::to_string(expected) + ")");
  return format;
}

std::vector<std::string> load_model(const fs::path& file, torch::serialize::InputArchive& archive,
                                    torch::nn::Module& module, bool strict) {
  c10::IValue m;
  if (!archive.try_read("model", m) || !m.isGenericDict()) throw InputError(file.string(), "model", "missing model state");
  const c10::impl::GenericDict saved = m.toGenericDict();
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (const auto& p : module.named_parameters(true)) targets.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers(true))
    if (b.value().defined()) targets.emplace_back(b.key(), b.value());
  std::vector<std::string> missing;
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (auto& [name, dst] : targets) {
    auto it = saved.find(name);
    if (it == saved.end()) {
      if (strict) throw InputError(file.string(), "model." + name, "not in the file (the model has it)");
      missing.push_back(name);
      continue;
    }
    const torch::Tensor src = it->value().toTensor();
    if (src.sizes() != dst.sizes())
      throw InputError(file.string(), "model." + name,
                       "shape " + c10::str(src.sizes()) + " in the file, " + c10::str(dst.sizes()) + " in the model");
    dst.copy_(src);
    used.insert(name);
  }
  if (strict)
    for (const auto& kv : saved)
      if (!used.count(kv.key().toStringRef()))
        throw InputError(file.string(), "model." + kv.key().toStringRef(), "not in the model (the file has it)");
  return missing;
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
  open_archive(file, {kCheckpointFormat}, device, archive);
  load_model(file, archive, module, /*strict=*/true);
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

void save_weights(const fs::path& file, const torch::nn::Module& module) {
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kWeightsFormat)));
  archive.write("version", c10::IValue(kWeightsVersion));
  archive.write("model", c10::IValue(state_dict(module)));
  write_archive(file, archive);
}

std::vector<std::string> load_weights(const fs::path& file, torch::nn::Module& module, bool strict) {
  torch::serialize::InputArchive archive;
  // A checkpoint's model part can be read as weights.
  open_archive(file, {kWeightsFormat, kCheckpointFormat}, torch::kCPU, archive);
  return load_model(file, archive, module, strict);
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

fs::path CheckpointDir::save(const torch::nn::Module& module, const GroupedOptimizer* optimizer,
                             const TrainProgress& progress) {
  fs::create_directories(dir_);
  char name[64];
  std::snprintf(name, sizeof name, "ckpt_%08lld.pt", static_cast<long long>(progress.iteration));
  const fs::path file = dir_ / name;
  save_checkpoint(file, module, optimizer, progress);
  write_file_atomic(dir_ / "latest", std::string(name) + "\n");
  // Prune: older checkpoints beyond `keep`, and temporaries a killed run left behind.
  std::vector<fs::path> ckpts;
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string n = e.path().filename().string();
    if (n.find(".tmp.") != std::string::npos) {
      std::error_code ec;
      fs::remove(e.path(), ec);
    } else if (n.rfind("ckpt_", 0) == 0 && e.path().extension() == ".pt") {
      ckpts.push_back(e.path());
    }
  }
  std::sort(ckpts.begin(), ckpts.end());  // zero-padded iteration numbers sort by name
  if (keep_ > 0)
    for (size_t i = 0; i + keep_ < ckpts.size(); ++i)
      if (ckpts[i] != file) fs::remove(ckpts[i]);
  return file;
}

}  // namespace detlab
