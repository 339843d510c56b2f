// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Receptive fields measured by back-propagation: where a layer's cells sit on the input and what they see.
#pragma once

#include <string>

#include "viz/score_model.h"

namespace detlab {

struct ReceptiveFieldOptions {
  int64_t min_probe = 128;   // first probe side (input pixels); doubled while the field reaches the border
  int64_t max_probe = 1024;  // fields wider than this are reported clipped to it (FPN's coarsest levels)
  int samples = 4;           // random inputs whose gradient supports are united (ReLU / max-pool gate paths)
  uint64_t seed = 0;
};

/// Measures a layer's geometry: the gradient of the central cell (summed over channels) with respect to a
/// random probe input is non-zero exactly on the pixels that cell sees (its receptive field, Luo et al. 2016
/// call its mass the effective field); the union of the supports over a few random inputs gives the field's
/// extent, whose centre fixes the cell offset. Independent of weights except through dead paths, which the
/// union over samples removes.
/// requires: layer in model.layers().
/// ensures: stride = the layer's stride (probe side / map side); size >= 1.
LayerGeometry probe_receptive_field(ScoreModel& model, const std::string& layer, const ReceptiveFieldOptions& opts = {});

/// The input window (continuous coordinates x1, y1, x2, y2) cell (row, col) of a layer sees.
std::array<double, 4> receptive_window(const LayerGeometry& g, int64_t row, int64_t col);

}  // namespace detlab
