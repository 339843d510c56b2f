// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Weight files into modules with detlab's one-line errors: the one place that turns nn/'s weight-file
// exceptions into an InputError naming the file (nn/ itself knows no detlab error types).
#pragma once

#include <filesystem>
#include <string>

#include "nn/weights/weight_file.h"

namespace detlab {

/// load_weights(module, path, options), where an unreadable or corrupt file becomes InputError(path, "weights",
/// the reader's message) and a state dict that does not fit becomes InputError(path, "weights", "does not fit
/// this <what>: <the load report's summary>"), e.g. what = "detector", "backbone", "head".
LoadReport load_module_weights(torch::nn::Module& module, const std::filesystem::path& path, const std::string& what,
                               const LoadOptions& options = {});

}  // namespace detlab
