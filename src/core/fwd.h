// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Forward declarations that let torch-free headers carry tensor handles without including torch.
#pragma once

namespace at {
class Tensor;
}  // namespace at

namespace detlab {
class FeatureMaps;
}  // namespace detlab
