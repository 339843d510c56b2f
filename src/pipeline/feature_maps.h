// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FeatureMaps: what ImageContext::maps holds when a staged pipeline has a torch backbone (torch-side header).
#pragma once

#include <torch/types.h>

#include <map>
#include <string>

#include "core/types.h"
#include "nn/detection/detection_model.h"
#include "tensor/batch.h"
#include "tensor/transform.h"

namespace detlab {

/// What this represents: one image after a backbone stage (features/backbone.h): the network input it was
/// computed from, the named maps, and how network pixels relate to image pixels (tensor/transform.h
/// to_network / to_original). Torch stages read it through ImageContext::maps; torch-free code only carries the
/// pointer (core/fwd.h).
/// thread safety: immutable once made; shared by the stages of one detect() call.
class FeatureMaps {
 public:
  torch::Tensor images;                       // 1 x 3 x H x W network input (normalized, padded)
  std::map<std::string, torch::Tensor> maps;  // backbone outputs by name (1 x C x H_l x W_l)
  ImageMeta meta;                             // resize bookkeeping of the image (index -1)

  /// The unpadded network size of the image (height, width).
  ImageSize image_size() const { return {meta.height, meta.width}; }
};

/// Proposal boxes (image pixels) as a K x 4 float tensor in the network pixels of `fm`, on its device.
inline torch::Tensor boxes_to_network(const Proposals& proposals, const FeatureMaps& fm) {
  torch::Tensor b = torch::empty({static_cast<int64_t>(proposals.size()), 4}, torch::kFloat);
  float* p = b.data_ptr<float>();
  for (const Proposal& q : proposals) {
    *p++ = q.box.x1;
    *p++ = q.box.y1;
    *p++ = q.box.x2;
    *p++ = q.box.y2;
  }
  return to_network(b, fm.meta).to(fm.images.device());
}

}  // namespace detlab
