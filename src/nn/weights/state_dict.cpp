// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// module_state_dict and load_state_dict (see state_dict.h).
#include "nn/weights/state_dict.h"

#include <sstream>

namespace detlab {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const std::string kCounter = "num_batches_tracked";

std::string shape_str(const std::vector<int64_t>& v) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << "]";
  return os.str();
}

template <typename T, typename F>
void list(std::ostringstream& os, const char* what, const std::vector<T>& items, size_t max_names, F name) {
  if (items.empty()) return;
  if (os.tellp() > 0) os << "; ";
  os << what << " " << items.size() << " key(s): ";
  for (size_t i = 0; i < items.size() && i < max_names; ++i) os << (i ? ", " : "") << name(items[i]);
  if (items.size() > max_names) os << ", ... (" << items.size() - max_names << " more)";
}

}  // namespace

StateDict module_state_dict(const torch::nn::Module& module) {
  StateDict out;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) out[p.key()] = p.value();
  for (const auto& b : module.named_buffers(/*recurse=*/true)) out[b.key()] = b.value();
  return out;
}

std::string LoadReport::summary(size_t max_names) const {
  std::ostringstream os;
  auto id = [](const std::string& s) { return s; };
  list(os, "missing", missing, max_names, id);
  list(os, "unexpected", unexpected, max_names, id);
  list(os, "mis-shaped", mismatched, max_names, [](const ShapeMismatch& m) {
    return m.key + " (module " + shape_str(m.expected) + ", file " + shape_str(m.found) + ")";
  });
  if (os.tellp() == 0) os << "ok: " << loaded.size() << " key(s) loaded";
  return os.str();
}

WeightLoadError::WeightLoadError(const std::string& source, LoadReport report)
    : std::runtime_error(source + ": state dict does not match the model: " + report.summary()),
      source_(source),
      report_(std::move(report)) {}

LoadReport load_state_dict(torch::nn::Module& module, const StateDict& state, const LoadOptions& options,
                           const std::string& source) {
  const StateDict targets = module_state_dict(module);
  auto ignored_key = [&](const std::string& key) {
    for (const auto& prefix : options.ignore) {
      if (starts_with(key, prefix)) return true;
    }
    return false;
  };

  LoadReport report;
  std::map<std::string, std::pair<std::string, torch::Tensor>> plan;  // module key -> (file key, tensor)
  for (const auto& kv : state) {
    std::string key = kv.first;
    bool renamed = false;
    for (const auto& rule : options.rename) {
      if (starts_with(key, rule.first)) {
        key = rule.second + key.substr(rule.first.size());
        renamed = true;
        break;
      }
    }
    if ((options.drop_unrenamed && !renamed) || ignored_key(key)) {
      report.ignored.push_back(kv.first);
      continue;
    }
    auto target = targets.find(key);
    if (target == targets.end()) {
      // torchvision's FrozenBatchNorm2d drops the BatchNorm2d counter of the checkpoint it loads.
      const bool counter = key == kCounter || ends_with(key, "." + kCounter);
      const std::string owner = counter ? key.substr(0, key.size() - kCounter.size()) : "";
      if (counter && targets.count(owner + "running_mean")) {
        report.ignored.push_back(kv.first);
      } else {
        report.unexpected.push_back(kv.first);
      }
      continue;
    }
    TORCH_CHECK(!plan.count(key), source, ": file keys '", plan[key].first, "' and '", kv.first,
                "' both map to module key '", key, "' (check LoadOptions::rename)");
    TORCH_CHECK(kv.second.defined(), source, ": key '", kv.first, "' holds an undefined tensor");
    if (kv.second.sizes() != target->second.sizes()) {
      report.mismatched.push_back(ShapeMismatch{key, target->second.sizes().vec(), kv.second.sizes().vec()});
      continue;
    }
    plan[key] = {kv.first, kv.second};
  }
  std::vector<std::string> zero_counters;
  for (const auto& kv : targets) {
    if (plan.count(kv.first) || ignored_key(kv.first)) continue;
    bool mismatched = false;
    for (const auto& m : report.mismatched) mismatched = mismatched || m.key == kv.first;
    if (mismatched) continue;
    if (kv.first == kCounter || ends_with(kv.first, "." + kCounter)) {  // PyTorch's BatchNorm zeroes an absent one
      zero_counters.push_back(kv.first);
      continue;
    }
    report.missing.push_back(kv.first);
  }

  if (options.strict && !report.ok()) throw WeightLoadError(source, std::move(report));

  torch::NoGradGuard no_grad;
  for (auto& kv : plan) {
    targets.at(kv.first).copy_(kv.second.second);
    report.loaded.push_back(kv.first);
  }
  for (const auto& key : zero_counters) targets.at(key).zero_();
  return report;
}

}  // namespace detlab
