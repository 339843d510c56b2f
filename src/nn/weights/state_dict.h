// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// State dicts of modules: collecting them, and loading one into a module by name with prefix mapping and a report.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace detlab {

/// Parameter / buffer name -> tensor, keyed like PyTorch's state_dict() ("layer1.0.conv1.weight").
using StateDict = std::map<std::string, torch::Tensor>;

/// Every parameter and buffer of `module` (recursively), as views sharing storage with the module.
/// ensures: keys equal torchvision's state_dict() keys for modules that mirror a torchvision model.
StateDict module_state_dict(const torch::nn::Module& module);

struct LoadOptions {
  /// (from, to) prefix rewrites of the *file's* keys, tried in order, first match wins; to may be empty.
  /// E.g. {"backbone.body.", "body."} or {"backbone.", ""}.
  std::vector<std::pair<std::string, std::string>> rename;
  /// Ignore file keys that match no rename rule (load one part of a larger checkpoint).
  bool drop_unrenamed = false;
  /// Module keys (after renaming) under these prefixes are neither loaded nor reported: e.g. {"fc."} to load an
  /// ImageNet classifier into a backbone built without its head.
  std::vector<std::string> ignore;
  /// true: any missing, unexpected or mis-shaped key throws WeightLoadError and the module is left unchanged.
  /// false: loads the keys that match in name and shape and returns the report.
  bool strict = true;
};

struct ShapeMismatch {
  std::string key;
  std::vector<int64_t> expected;  // the module's
  std::vector<int64_t> found;     // the file's
};

/// What happened to each key. "Missing": in the module, not in the file; "unexpected": in the file (after
/// renaming), not in the module; "ignored": skipped on purpose (drop_unrenamed / ignore / num_batches_tracked
/// for FrozenBatchNorm2d, as torchvision does).
struct LoadReport {
  std::vector<std::string> loaded, missing, unexpected, ignored;
  std::vector<ShapeMismatch> mismatched;
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  /// One line: counts and the first max_names keys of each problem list, e.g.
  /// "missing 2 key(s): fc.weight, fc.bias; unexpected 1 key(s): head.w; mis-shaped 1 key(s): conv1.weight
  ///  (module [64, 3, 7, 7], file [64, 3, 3, 3])".
  std::string summary(size_t max_names = 8) const;
};

/// Thrown by a strict load that found problems; report() holds the complete lists.
class WeightLoadError : public std::runtime_error {
 public:
  WeightLoadError(const std::string& source, LoadReport report);
  const LoadReport& report() const { return report_; }
  const std::string& source() const { return source_; }

 private:
  std::string source_;
  LoadReport report_;
};

/// Copies `state` into `module`'s parameters and buffers by name (dtype converted, device kept, no autograd).
/// Rules as PyTorch / torchvision apply them: a file's "X.num_batches_tracked" is ignored when the module's X
/// is a FrozenBatchNorm2d (it has X.running_mean but no counter); a module counter missing from the file
/// (a FrozenBatchNorm2d checkpoint loaded into BatchNorm2d) is set to 0 and not reported.
/// requires: source names the origin in messages (a path).
/// ensures:  strict and !report.ok() -> throws WeightLoadError before changing anything.
LoadReport load_state_dict(torch::nn::Module& module, const StateDict& state, const LoadOptions& options = {},
                           const std::string& source = "state dict");

}  // namespace detlab
