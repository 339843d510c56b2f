// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Batch::to: moves a batch to a device.
#include "tensor/batch.h"

namespace detlab {

Batch Batch::to(const torch::Device& device, bool non_blocking) const {
  Batch out;
  out.images = images.defined() ? images.to(device, non_blocking) : images;
  out.targets.reserve(targets.size());
  for (const TargetBoxes& t : targets)
    out.targets.push_back({t.boxes.to(device, non_blocking), t.labels.to(device, non_blocking)});
  out.meta = meta;
  out.epoch = epoch;
  out.index = index;
  return out;
}

}  // namespace detlab
