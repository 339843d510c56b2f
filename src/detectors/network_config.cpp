// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Shared config readers of the network detectors (see network_config.h).
#include "detectors/network_config.h"

#include <algorithm>
#include <vector>

#include <c10/util/Exception.h>

#include "config/checked.h"
#include "core/error.h"
#include "features/backbone_type.h"
#include "nn/weights/weight_file.h"

namespace detlab {

void parse_backbone_node(const Config& b, std::string* name, BackboneOptions* options) {
  *name = parse_backbone_type(b, *name);
  options->norm = get_named(b, "norm", options->norm, norm_kind_names());
  options->trainable_layers = b.get<int>("trainable_layers", options->trainable_layers);
  options->weights = b.get<std::string>("weights", options->weights);
}

ScaleTranslateOptions parse_scale_translate(const Config& a, ScaleTranslateOptions o) {
  o.scale = a.get<double>("scale", o.scale);
  o.translate = a.get<double>("translate", o.translate);
  o.min_visible = a.get<double>("min_visible", o.min_visible);
  if (!(o.scale >= 0 && o.scale < 1)) config_error(a, "scale", "must be in [0, 1)");
  if (!(o.translate >= 0 && o.translate < 1)) config_error(a, "translate", "must be in [0, 1)");
  if (!(o.min_visible > 0 && o.min_visible <= 1)) config_error(a, "min_visible", "must be in (0, 1]");
  return o;
}

std::unique_ptr<Detector> build_reporting_errors(const Config& node, const std::string& backbone_weights,
                                                 const std::function<std::unique_ptr<Detector>()>& make) {
  try {
    return make();
  } catch (const c10::Error& e) {  // e.g. a feature map the backbone lacks, a head size the anchors do not fit
    throw InputError(node.file(), node.path(), e.what_without_backtrace());
  } catch (const WeightFileError& e) {
    throw InputError(backbone_weights, node.child_path("backbone.weights"), e.what());
  } catch (const WeightLoadError& e) {
    throw InputError(backbone_weights, node.child_path("backbone.weights"), e.report().summary());
  }
}

}  // namespace detlab
