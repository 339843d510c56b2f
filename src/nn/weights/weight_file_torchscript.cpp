// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Reading state dicts from TorchScript archives; the only file of nn/ that includes the TorchScript importer.
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>

#include "nn/weights/weight_file.h"

namespace detlab {

StateDict read_torchscript_state_dict(const std::string& path) {
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    throw WeightFileError(path, std::string("cannot load the TorchScript archive: ") + e.what_without_backtrace());
  }
  StateDict out;
  // A scripted holder of a Dict[str, Tensor] attribute "tensors" (tv_export.py's TensorDict).
  if (module.hasattr("tensors") && module.attr("tensors").isGenericDict()) {
    for (const auto& kv : module.attr("tensors").toGenericDict()) {
      if (!kv.key().isString() || !kv.value().isTensor()) {
        throw WeightFileError(path, "attribute 'tensors' must be a Dict[str, Tensor]");
      }
      out[kv.key().toStringRef()] = kv.value().toTensor();
    }
    return out;
  }
  // A scripted model: its parameters and buffers, with the Python module's names.
  for (const auto& p : module.named_parameters(/*recurse=*/true)) out[p.name] = p.value;
  for (const auto& b : module.named_buffers(/*recurse=*/true)) out[b.name] = b.value;
  if (out.empty()) throw WeightFileError(path, "the TorchScript module has no parameters, buffers or 'tensors' dict");
  return out;
}

}  // namespace detlab
