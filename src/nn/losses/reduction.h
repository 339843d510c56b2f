// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Loss reduction modes ('none' | 'mean' | 'sum', as in torch.nn.functional) and their application.
#pragma once

#include <torch/types.h>

#include <string_view>

namespace detlab {

enum class Reduction { kNone, kMean, kSum };

/// ATen's reduction code (at::Reduction::None / Mean / Sum).
int64_t to_aten(Reduction r);
/// Parses "none", "mean" or "sum" (else c10::Error naming the value).
Reduction parse_reduction(std::string_view name);
/// Applies the reduction to elementwise losses (mean of an empty tensor is NaN, as in torch).
at::Tensor reduce(const at::Tensor& losses, Reduction r);

}  // namespace detlab
