// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// build_retinanet: YAML -> RetinaNetDetectorOptions -> ResNet-FPN + RetinaNet (nn/detection) -> NetworkDetector.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "detectors/network_detector.h"
#include "nn/backbones/fpn.h"
#include "nn/backbones/resnet.h"
#include "nn/detection/retinanet.h"
#include "pipeline/build_context.h"

namespace detlab {

/// The defaults are torchvision's retinanet_resnet50_fpn:
/// ResNet-50 (BatchNorm; FrozenBatchNorm when `backbone.norm: frozen_batch_norm`, as its pretrained models) with
/// C3..C5 into a 256-channel FPN plus P6 / P7 from P5, 9 anchors of 32..512 px, 4-conv subnets, focal loss
/// (alpha 0.25, gamma 2), L1 box loss, GeneralizedRCNNTransform-like input (min 800 / max 1333, ImageNet mean /
/// std, padding to 32).
/// A ResNet preset as RetinaNet's body: no classifier, returning the stages `returned` (torchvision's
/// returned_layers; {2, 3, 4} = C3..C5).
ResNetOptions retinanet_body(ResNetOptions preset, const std::vector<int64_t>& returned = {2, 3, 4});

/// torchvision's RetinaNet FPN: 256 channels, P6 / P7 from P5 (LastLevelP6P7).
FpnOptions retinanet_fpn();

/// Everything a `retinanet` detector node describes; the defaults are the family's, so that
/// `RetinaNetDetectorOptions{}` is what `type: retinanet` parses to (num_classes aside, which the data set gives).
struct RetinaNetDetectorOptions {
  NetworkDetectorOptions net;                              // input, train, max_per_image, device, weights
  std::string backbone = "resnet50";                       // resnet18/34/50/101 or small_resnet
  ResNetOptions resnet = retinanet_body(resnet_options(50));  // the backbone preset, then the node's keys
  std::string backbone_weights;                            // optional state dict of the ResNet body (ImageNet)
  FpnOptions fpn = retinanet_fpn();
  RetinaNetOptions model;                                  // anchors 32..512 px x 3 scales x 3 ratios
};

/// Keys (besides NetworkDetector's): backbone {name, norm: batch_norm | frozen_batch_norm, bn_eps,
/// trainable_layers, returned_layers: [2, 3, 4], weights}, fpn {out_channels, p6p7_from_c5}, anchors {sizes,
/// scales_per_octave, aspect_ratios}, head {num_convs, prior_probability, norm: none | batch_norm}, loss {alpha, gamma, fg_iou_thresh,
/// bg_iou_thresh, box_loss: l1 | smooth_l1 | giou, smooth_l1_beta}, postprocess {score_thresh, nms_thresh,
/// topk_candidates, detections_per_img}. InputError naming the dotted key on a bad value.
RetinaNetDetectorOptions parse_retinanet(const Config& node, const std::vector<std::string>& class_names);

std::shared_ptr<RetinaNet> make_retinanet_model(const RetinaNetDetectorOptions& options);
std::unique_ptr<NetworkDetector> make_retinanet(const RetinaNetDetectorOptions& options);

/// Registry builder for `type: retinanet`.
std::unique_ptr<Detector> build_retinanet(const Config& node, BuildContext& ctx);

}  // namespace detlab
