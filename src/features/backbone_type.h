// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The one key that names a backbone, for every family and stage (its own file: a network detector that reads
// it does not depend on the backbone stage, so its code identity leaves the R-CNN family's code out).
#pragma once

#include <string>

#include "config/config.h"

namespace detlab {

/// The backbone a `backbone:` node names, by its `type` (the one key every family and stage names a backbone
/// with; `fallback` when absent, required when `fallback` is empty), one of backbone_names(). InputError at
/// `type` for an unknown name, and at `name` (the network detectors' key before) saying it was renamed.
std::string parse_backbone_type(const Config& node, const std::string& fallback = "");

}  // namespace detlab
