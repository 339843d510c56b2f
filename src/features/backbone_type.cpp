// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// parse_backbone_type: `type`, checked against the backbone table.
#include "features/backbone_type.h"

#include <algorithm>
#include <vector>

#include "config/checked.h"
#include "nn/backbones/make_backbone.h"

namespace detlab {

std::string parse_backbone_type(const Config& node, const std::string& fallback) {
  if (node.has("name")) config_error(node, "name", "renamed: a backbone is named by `type` (backbone: {type: ...})");
  const std::string type = fallback.empty() ? node.get<std::string>("type") : node.get<std::string>("type", fallback);
  const std::vector<std::string> names = backbone_names();
  if (std::find(names.begin(), names.end(), type) == names.end()) {
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    config_error(node, "type", "unknown backbone '" + type + "' (known: " + known + ")");
  }
  return type;
}

}  // namespace detlab
