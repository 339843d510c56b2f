// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Loss reduction modes and their application.
#include "nn/losses/reduction.h"

#include <ATen/core/Reduction.h>

#include <string>

namespace detlab {

int64_t to_aten(Reduction r) {
  switch (r) {
    case Reduction::kNone:
      return at::Reduction::None;
    case Reduction::kMean:
      return at::Reduction::Mean;
    case Reduction::kSum:
      return at::Reduction::Sum;
  }
  TORCH_CHECK(false, "to_aten: unknown reduction");
}

Reduction parse_reduction(std::string_view name) {
  if (name == "none") return Reduction::kNone;
  if (name == "mean") return Reduction::kMean;
  if (name == "sum") return Reduction::kSum;
  TORCH_CHECK(false, "reduction must be none, mean or sum, got '", std::string(name), "'");
}

at::Tensor reduce(const at::Tensor& losses, Reduction r) {
  switch (r) {
    case Reduction::kNone:
      return losses;
    case Reduction::kMean:
      return losses.mean();
    case Reduction::kSum:
      return losses.sum();
  }
  TORCH_CHECK(false, "reduce: unknown reduction");
}

}  // namespace detlab
