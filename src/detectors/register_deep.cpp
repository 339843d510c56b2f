// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// register_deep_detectors(): the deep families (NetworkDetector over an nn/ DetectionModel), when built with torch.
#include "detectors/detr.h"
#include "detectors/faster_rcnn.h"
#include "detectors/retinanet.h"
#include "detectors/ssd.h"
#include "detectors/yolo.h"
#include "pipeline/registries.h"

namespace detlab {

void register_deep_detectors(Registry<Detector>& r) {
  // Each family adds one line here: r.add("<file stem>", build_<family>, "<one-line summary>").
  r.add("yolo", build_yolo, "YOLO v1 (Redmon et al. 2016): S x S grid, B boxes per cell, sum-squared loss, NMS");
  r.add("detr", build_detr, "DETR (Carion et al. 2020): transformer set prediction, Hungarian matching, no NMS");
  r.add("ssd", build_ssd, "SSD / SSDlite (Liu et al. 2016): default boxes on several maps, 3:1 hard negatives, NMS");
  r.add("faster_rcnn", build_faster_rcnn,
        "Faster R-CNN (Ren et al. 2015) as torchvision's fasterrcnn_resnet50_fpn: RPN, RoIAlign, 2-fc head, NMS");
  r.add("retinanet", build_retinanet, "RetinaNet (Lin et al. 2017): FPN P3-P7, 9 anchors, sigmoid focal loss, NMS");
}

}  // namespace detlab
