// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// load_module_weights: nn/'s weight-file exceptions as InputError.
#include "tensor/module_weights.h"

#include "core/error.h"

namespace detlab {

LoadReport load_module_weights(torch::nn::Module& module, const std::filesystem::path& path, const std::string& what,
                               const LoadOptions& options) {
  try {
    return load_weights(module, path.string(), options);
  } catch (const WeightFileError& e) {
    throw InputError(path.string(), "weights", e.what());
  } catch (const WeightLoadError& e) {
    throw InputError(path.string(), "weights", "does not fit this " + what + ": " + e.report().summary());
  }
}

}  // namespace detlab
