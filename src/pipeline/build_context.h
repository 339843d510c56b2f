// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// BuildContext: what a registry builder may use from the components built before it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace detlab {

struct Registries;

/// Shape of one backbone output (torch-free mirror of nn/backbones' ShapeSpec).
struct FeatureShape {
  int64_t channels = 0;
  int64_t stride = 0;  // w.r.t. the input image
};

struct BuildContext {
  const Registries* registries = nullptr;        // to build nested components
  std::vector<std::string> class_names;          // of the dataset the detector is built for
  std::map<std::string, FeatureShape> backbone;  // output shapes of the shared backbone, if any
  /// Shape of one region's features as the feature stage built so far gives them (torch stages: {C, h, w} for
  /// RoI pooling, {D} for cnn_crop), so a classifier head can size its first layer; empty when unknown (HOG).
  std::vector<int64_t> region_shape;
  int num_classes() const { return static_cast<int>(class_names.size()); }
};

}  // namespace detlab
