// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// build_ssd: YAML -> SsdDetectorOptions -> SSD / SSDlite network (nn/detection/ssd.h) -> NetworkDetector.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "detectors/network_detector.h"
#include "nn/backbones/ssd_mobilenet.h"
#include "nn/backbones/ssd_vgg.h"
#include "nn/detection/ssd.h"
#include "pipeline/build_context.h"

namespace detlab {

/// Everything an `ssd` detector node describes. The backbone name picks torchvision-compatible defaults for the
/// rest (each overridable by its key):
///   vgg16               SSD300: SsdVgg, 300 x 300 input with the Caffe VGG mean and std 1/255, SSD300 default
///                       boxes (steps 8..300), plain 3x3 head, torchvision's ssd300_vgg16 post-processing
///   mobilenet_v3_large  SSDlite320: SsdLiteMobileNet (reduced tail), 320 x 320 input with mean = std = 0.5,
///   mobilenet_v3_small  {2, 3} boxes on 6 maps (scales 0.2 .. 0.95), depthwise-separable head, SSDlite
///                       post-processing (score 0.001, NMS 0.55, top-k 300)
///   small_vgg           from-scratch CPU variant: small_vgg + 256-channel fc + four stride-2 extras, 256 x 256
///                       input (mean = std = 0.5), the paper's scales 0.2 .. 0.9 without steps, plain head
struct SsdDetectorOptions {
  NetworkDetectorOptions net;             // input, train, max_per_image, device, weights
  std::string backbone = "vgg16";
  SsdVggOptions vgg;                      // vgg16 / small_vgg
  SsdLiteMobileNetOptions mobilenet;      // mobilenet_v3_*
  std::string backbone_weights;           // optional state dict of the VGG / MobileNet body (ImageNet weights)
  SsdOptions model;
};

/// Keys (besides NetworkDetector's): backbone {name, trainable_layers, weights, fc_channels, fc_dilation,
/// extras: [[mid, out, kernel, stride, padding], ...], l2_scale, width_mult, reduced_tail, extra_channels},
/// head {type: conv | lite}, anchors {aspect_ratios: [[2], [2, 3], ...], min_ratio, max_ratio, scales, steps,
/// clip}, augment {photometric, expand, crop, min_scale} (SSD's training augmentation, off by default; see
/// nn/detection/ssd_augment.h), loss {iou_thresh, neg_to_pos, smooth_l1_beta}, postprocess {score_thresh, nms_thresh, topk_candidates,
/// detections_per_img}. InputError naming the dotted key on a bad value.
SsdDetectorOptions parse_ssd(const Config& node, const std::vector<std::string>& class_names);

/// The network alone (backbone weights loaded if given; WeightFileError / WeightLoadError otherwise).
std::shared_ptr<Ssd> make_ssd_model(const SsdDetectorOptions& options);
std::unique_ptr<NetworkDetector> make_ssd(const SsdDetectorOptions& options);

/// Registry builder for `type: ssd`.
std::unique_ptr<Detector> build_ssd(const Config& node, BuildContext& ctx);

}  // namespace detlab
