// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Run-wide settings for deep code: device selection and seeding (thread counts: pipeline/runtime.h).
#pragma once

#include <cstdint>
#include <string>

#include <torch/types.h>

namespace detlab {

/// "cpu", "cuda" or "cuda:<index>". InputError (field "--device") when the name is unknown or CUDA is asked
/// for but this LibTorch has no CUDA or sees no GPU.
torch::Device parse_device(const std::string& name);

/// Seeds LibTorch's default generators (CPU and, where present, CUDA). Call it before building a model so
/// that its initialization is reproducible; the engine seeds again at the start of a fresh run.
void seed_everything(uint64_t seed);

}  // namespace detlab
