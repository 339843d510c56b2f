// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// register_deep_detectors(): the deep families (NetworkDetector over an nn/ DetectionModel), when built with torch.
#include "detectors/retinanet.h"
#include "detectors/ssd.h"
#include "pipeline/registries.h"

namespace detlab {

void register_deep_detectors(Registry<Detector>& r) {
  // Each family adds one line here: r.add("<file stem>", build_<family>, "<one-line summary>").
  r.add("ssd", build_ssd, "SSD / SSDlite (Liu et al. 2016): default boxes on several maps, 3:1 hard negatives, NMS");
  r.add("retinanet", build_retinanet, "RetinaNet (Lin et al. 2017): FPN P3-P7, 9 anchors, sigmoid focal loss, NMS");
}

}  // namespace detlab
