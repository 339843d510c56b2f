// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Device parsing and seeding.
#include "tensor/runtime.h"

#include <torch/cuda.h>
#include <torch/utils.h>

#include "core/error.h"

namespace detlab {

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw InputError("", "--device", "'" + name + "' requested, but this LibTorch build has no CUDA or sees no GPU (use --device cpu)");
    int index = 0;
    if (name.size() > 5) {
      try {
        size_t used = 0;
        index = std::stoi(name.substr(5), &used);
        if (used != name.size() - 5 || index < 0) throw std::invalid_argument(name);
      } catch (const std::exception&) {
        throw InputError("", "--device", "bad device '" + name + "' (expected cpu, cuda or cuda:<index>)");
      }
    }
    if (index >= static_cast<int>(torch::cuda::device_count()))
      throw InputError("", "--device", "'" + name + "': only " + std::to_string(torch::cuda::device_count()) + " GPU(s) visible");
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw InputError("", "--device", "unknown device '" + name + "' (expected cpu, cuda or cuda:<index>)");
}

void seed_everything(uint64_t seed) { torch::manual_seed(seed); }

}  // namespace detlab
