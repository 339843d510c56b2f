# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Parity fixtures of the dense detectors (SSD300-VGG16, SSDlite320-MobileNetV3, RetinaNet-R50-FPN) for tv_export.py.
"""Registered into tv_export.EXPORTS (see tv_export.py): random-initialised torchvision detection models.

Each fixture holds, besides state_dict.pt:
    inputs.pt   raw_image (H x W x 3 uint8, RGB: the image before torchvision's transform), images (the
                transformed, padded batch, 1 x 3 x H' x W'), image_size (h, w of the resized image in it)
                gt_boxes, gt_labels (3 ground-truth boxes in the transformed image's pixels, logit columns)
                [retinanet: transform_800 = torchvision's transform at its default min_size 800 / max_size 1333]
    outputs.pt  features.<k> (backbone / FPN maps, finest first), cls_logits, bbox_regression (head outputs,
                levels concatenated), anchors (A x 4), boxes / scores / labels (postprocess_detections, in the
                transformed image's pixels), orig_boxes (after transform.postprocess, original pixels),
                loss_bbox_regression / loss_classification (compute_loss for gt_boxes on these head outputs)

Random weights are made informative: BatchNorm statistics are calibrated (tv_export.calibrate_bn) so every
buffer matters, and the RetinaNet class subnet gets a wider weight spread so that its scores straddle the
0.05 threshold (torchvision's own init with the 0.01 prior would detect nothing on a random network).
"""
from collections import OrderedDict

import torch
from torch import nn
from torchvision.models.detection import retinanet_resnet50_fpn, ssd300_vgg16, ssdlite320_mobilenet_v3_large
from torchvision.ops import boxes as box_ops

from tv_export import Export, calibrate_bn, register


class _BackboneAndHead(nn.Module):
    """Runs a detector's backbone and head, so that calibrate_bn can reach the head's BatchNorm layers."""

    def __init__(self, det):
        super().__init__()
        self.det = det

    def forward(self, x):
        feats = list(self.det.backbone(x).values())
        return self.det.head(feats)


def _raw_image(height: int, width: int) -> torch.Tensor:
    """A smooth random image with noise (uint8 values, H x W x 3): detections that depend on image content."""
    base = torch.nn.functional.interpolate(torch.rand(1, 3, height // 16, width // 16), size=(height, width),
                                           mode="bilinear", align_corners=False)[0]
    img = (base * 200 + torch.rand(3, height, width) * 55).clamp(0, 255).round().to(torch.uint8)
    return img.permute(1, 2, 0).contiguous()


def _detector_export(model, raw: torch.Tensor, extra_inputs=None) -> Export:
    model.eval()
    image = raw.permute(2, 0, 1).float() / 255.0
    with torch.no_grad():
        images, _ = model.transform([image])
        feats = model.backbone(images.tensors)
        feat_list = list(feats.values())
        head = model.head(feat_list)
        anchors = model.anchor_generator(images, feat_list)
        if isinstance(head["cls_logits"], torch.Tensor) and head["cls_logits"].dim() == 3 and \
                hasattr(model, "neg_to_pos_ratio"):  # SSD
            dets = model.postprocess_detections(head, anchors, images.image_sizes)
        else:  # RetinaNet: split per level as RetinaNet.forward does
            hw = [f.size(2) * f.size(3) for f in feat_list]
            a = head["cls_logits"].size(1) // sum(hw)
            split = [n * a for n in hw]
            split_head = {k: list(v.split(split, dim=1)) for k, v in head.items()}
            split_anchors = [list(x.split(split)) for x in anchors]
            dets = model.postprocess_detections(split_head, split_anchors, images.image_sizes)
        final = model.transform.postprocess([dict(d) for d in dets], images.image_sizes, [tuple(image.shape[-2:])])
        whole = model([image])[0]  # the model's own forward must agree with the pieces above
    assert torch.equal(whole["boxes"], final[0]["boxes"]) and torch.equal(whole["scores"], final[0]["scores"])
    outputs = OrderedDict()
    for i, f in enumerate(feat_list):
        outputs[f"features.{i}"] = f
    outputs["cls_logits"] = head["cls_logits"]
    outputs["bbox_regression"] = head["bbox_regression"]
    outputs["anchors"] = anchors[0]
    outputs["boxes"] = dets[0]["boxes"]
    outputs["scores"] = dets[0]["scores"]
    outputs["labels"] = dets[0]["labels"]
    outputs["orig_boxes"] = final[0]["boxes"]
    # Training loss on these head outputs for three ground-truth boxes (torchvision's compute_loss on its own
    # matching), in the transformed image's pixels; labels are logit columns (SSD: 1.. with 0 = background).
    h, w = images.image_sizes[0]
    gt_boxes = torch.tensor([[0.1 * w, 0.2 * h, 0.5 * w, 0.6 * h], [0.45 * w, 0.1 * h, 0.95 * w, 0.4 * h],
                             [0.3 * w, 0.55 * h, 0.42 * w, 0.7 * h]])
    gt_labels = torch.tensor([3, 17, 45], dtype=torch.int64)
    targets = [{"boxes": gt_boxes, "labels": gt_labels}]
    with torch.no_grad():
        if hasattr(model, "neg_to_pos_ratio"):  # SSD
            matched = [model.proposal_matcher(box_ops.box_iou(gt_boxes, anchors[0]))]
            losses = model.compute_loss(targets, head, anchors, matched)
        else:
            losses = model.compute_loss(targets, head, anchors)
    outputs["loss_bbox_regression"] = losses["bbox_regression"]
    outputs["loss_classification"] = losses["classification"]
    inputs = OrderedDict(raw_image=raw, images=images.tensors,
                         image_size=torch.tensor(list(images.image_sizes[0]), dtype=torch.int64),
                         gt_boxes=gt_boxes, gt_labels=gt_labels)
    inputs.update(extra_inputs or {})
    return Export(model, inputs, outputs)


@register("ssd300_vgg16")
def _ssd300():
    model = ssd300_vgg16(weights=None, weights_backbone=None)  # 91 classes (COCO with background), no BN
    return _detector_export(model, _raw_image(240, 320))


@register("ssdlite320_mobilenet_v3_large")
def _ssdlite320():
    model = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)  # reduced tail, BN eps 1e-3
    calibrate_bn(_BackboneAndHead(model), (2, 3, 320, 320))
    return _detector_export(model, _raw_image(240, 320))


@register("retinanet_resnet50_fpn")
def _retinanet():
    # min_size 320 / max_size 512 keeps the C++ test short; the default 800 / 1333 transform is exported as
    # transform_800 and checked on its own (the network does not depend on the input size).
    model = retinanet_resnet50_fpn(weights=None, weights_backbone=None, min_size=320, max_size=512)
    calibrate_bn(model.backbone, (2, 3, 320, 416))
    raw = _raw_image(250, 330)
    with torch.no_grad():
        cls, reg = model.head.classification_head, model.head.regression_head
        for conv in list(cls.conv) + list(reg.conv):
            nn.init.kaiming_normal_(conv[0].weight, mode="fan_in", nonlinearity="relu")
        # Rescale the output layers on this image: logits with spread ~1.5 around the biases (scores from ~0
        # to ~1, a few percent above 0.05) and box deltas of ~0.3 (boxes near their anchors, no exp clamping).
        model.eval()
        images, _ = model.transform([raw.permute(2, 0, 1).float() / 255.0])
        head = model.head(list(model.backbone(images.tensors).values()))
        cls.cls_logits.weight.mul_(1.5 / float((head["cls_logits"] - head["cls_logits"].mean()).std()))
        reg.bbox_reg.weight.mul_(0.3 / float(head["bbox_regression"].std()))
        nn.init.normal_(cls.cls_logits.bias, mean=-5.0, std=1.0)
    full = retinanet_resnet50_fpn(weights=None, weights_backbone=None).transform
    with torch.no_grad():
        t800, _ = full([raw.permute(2, 0, 1).float() / 255.0])
    return _detector_export(model, raw, {"transform_800": t800.tensors,
                                         "transform_800_size": torch.tensor(list(t800.image_sizes[0]))})
