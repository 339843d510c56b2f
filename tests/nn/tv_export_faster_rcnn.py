# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Parity fixture of Faster R-CNN ResNet-50-FPN (torchvision's fasterrcnn_resnet50_fpn) for tv_export.py.
"""Registered into tv_export.EXPORTS (see tv_export.py): a random-initialised fasterrcnn_resnet50_fpn.

The model is built as fasterrcnn_resnet50_fpn builds it when COCO weights are asked for (FrozenBatchNorm2d body,
trainable_backbone_layers 3, 91 classes), with random weights: BatchNorm statistics calibrated on a BatchNorm2d
twin (tv_export.calibrate_bn), the RPN head and the class scores given a wider spread so that objectness scores are
not near-ties and some class probabilities pass the 0.05 threshold (a freshly initialised head would detect
nothing). A smaller resize (min_size 480, max_size 640) keeps the C++ test quick; the transform at torchvision's
default 800 / 1333 is exported too.

inputs.pt   raw_image_<i> (H x W x 3 uint8 RGB, two VOC images of different sizes), images (the transformed,
            padded batch 2 x 3 x H x W), image_sizes (2 x 2: h, w of each resized image), original_sizes (2 x 2),
            transform_800 / transform_800_sizes (torchvision's transform of image 0 alone at 800 / 1333),
            gt_boxes_<i> / gt_labels_<i> (targets in the batch's pixels, predictor columns),
            rpn_perm / roi_perm: nothing (losses are checked on sampled-free quantities, see test_faster_rcnn.cpp)
outputs.pt  rpn_objectness_<l> / rpn_deltas_<l> (head outputs per level), proposals_<i> / proposal_scores_<i>
            (the RPN's proposals in eval mode and their objectness probabilities), class_logits / box_regression
            (box predictor outputs on those proposals, images concatenated), boxes_<i> / scores_<i> / labels_<i>
            (roi_heads detections, batch pixels), final_boxes_<i> (after transform.postprocess, original pixels),
            single_boxes / scores / labels_<i> (the whole model on image i alone)
"""
import os
from collections import OrderedDict

import torch
from torch import nn
from torchvision.io import read_image
from torchvision.models import resnet50
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.ops.misc import FrozenBatchNorm2d

from tv_export import Export, calibrate_bn, register

_VOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "voc2012-sample", "JPEGImages")
_IMAGES = ["2007_000027.jpg", "2007_000033.jpg"]  # 500 x 486 and 366 x 500: different sizes, padding differs


def _frozen_backbone():
    twin = _resnet_fpn_extractor(resnet50(weights=None, norm_layer=nn.BatchNorm2d), 3)
    calibrate_bn(twin, (2, 3, 224, 224))
    body = _resnet_fpn_extractor(resnet50(weights=None, norm_layer=FrozenBatchNorm2d), 3)
    body.load_state_dict(twin.state_dict())
    return body


def _standardise(layer: nn.Module, output: torch.Tensor, target_std: float) -> None:
    """Shifts a layer's bias so that each output column (rows = samples) has mean 0 on the measured output, then
    scales weight and bias so that the columns have the given standard deviation."""
    layer.bias.sub_(output.mean(0))
    centred = output - output.mean(0)
    factor = target_std / max(float(centred.std()), 1e-12)
    layer.weight.mul_(factor)
    layer.bias.mul_(factor)


def _columns(maps) -> torch.Tensor:
    """Per-level conv outputs N x C x H x W -> (sum N H W) x C."""
    return torch.cat([m.permute(0, 2, 3, 1).reshape(-1, m.size(1)) for m in maps])


def _spread_heads(model, images_in) -> None:
    """Re-standardises the random heads on the fixture images, so that the fixture tests something: objectness
    logits of std 1 (the top proposals are neither saturated sigmoids nor near-ties), RPN deltas of std 0.1, class
    logits of std 1.5 with no class favoured on average (several classes pass the 0.05 threshold), box deltas of
    std 0.5 (0.05 box widths after the 10 / 5 weights)."""
    with torch.no_grad():
        images, _ = model.transform(images_in)
        feats = model.backbone(images.tensors)
        objectness, deltas = model.rpn.head(list(feats.values()))
        _standardise(model.rpn.head.cls_logits, _columns(objectness), 1.0)
        _standardise(model.rpn.head.bbox_pred, _columns(deltas), 0.1)
        boxes, _ = model.rpn(images, feats)
        x = model.roi_heads.box_head(model.roi_heads.box_roi_pool(feats, boxes, images.image_sizes))
        logits, box_regression = model.roi_heads.box_predictor(x)
        _standardise(model.roi_heads.box_predictor.cls_score, logits, 1.5)
        _standardise(model.roi_heads.box_predictor.bbox_pred, box_regression, 0.5)


@register("fasterrcnn_resnet50_fpn")
def _fasterrcnn_resnet50_fpn():
    model = FasterRCNN(_frozen_backbone(), num_classes=91, min_size=480, max_size=640)
    model.eval()
    raws = [read_image(os.path.join(_VOC, name)) for name in _IMAGES]  # 3 x H x W uint8 RGB
    images_in = [r.float() / 255.0 for r in raws]
    _spread_heads(model, images_in)
    inputs = OrderedDict()
    outputs = OrderedDict()
    with torch.no_grad():
        images, _ = model.transform(images_in)
        feats = model.backbone(images.tensors)
        feat_list = list(feats.values())
        objectness, deltas = model.rpn.head(feat_list)
        anchors = model.rpn.anchor_generator(images, feat_list)
        num_anchors_per_level = [o[0].numel() for o in objectness]
        from torchvision.models.detection.rpn import concat_box_prediction_layers
        obj_flat, deltas_flat = concat_box_prediction_layers(objectness, deltas)
        proposals = model.rpn.box_coder.decode(deltas_flat, anchors).view(len(anchors), -1, 4)
        boxes, scores = model.rpn.filter_proposals(proposals, obj_flat, images.image_sizes, num_anchors_per_level)
        rpn_boxes, _ = model.rpn(images, feats)
        for a, b in zip(boxes, rpn_boxes):
            assert torch.equal(a, b)
        box_feats = model.roi_heads.box_roi_pool(feats, boxes, images.image_sizes)
        class_logits, box_regression = model.roi_heads.box_predictor(model.roi_heads.box_head(box_feats))
        dets, _ = model.roi_heads(feats, boxes, images.image_sizes)
        final = model.transform.postprocess([dict(d) for d in dets], images.image_sizes,
                                            [tuple(i.shape[-2:]) for i in images_in])
        whole = model(images_in)
        for w, f in zip(whole, final):
            assert torch.equal(w["boxes"], f["boxes"]) and torch.equal(w["scores"], f["scores"])
        # One image per call, as a Detector runs: padding to the batch's size changes the features near the
        # border, so the two-image batch above is not what a single image gives.
        singles = [model([im])[0] for im in images_in]
        t800 = GeneralizedRCNNTransform(800, 1333, model.transform.image_mean, model.transform.image_std)
        big, _ = t800([images_in[0]])

    for i, r in enumerate(raws):
        inputs[f"raw_image_{i}"] = r.permute(1, 2, 0).contiguous()
    inputs["images"] = images.tensors
    inputs["image_sizes"] = torch.tensor(images.image_sizes, dtype=torch.int64)
    inputs["original_sizes"] = torch.tensor([list(i.shape[-2:]) for i in images_in], dtype=torch.int64)
    inputs["transform_800"] = big.tensors
    inputs["transform_800_sizes"] = torch.tensor(big.image_sizes, dtype=torch.int64)
    for l, (o, d) in enumerate(zip(objectness, deltas)):
        outputs[f"rpn_objectness_{l}"] = o
        outputs[f"rpn_deltas_{l}"] = d
    outputs["anchors"] = anchors[0]
    for i, (b, s) in enumerate(zip(boxes, scores)):
        outputs[f"proposals_{i}"] = b
        outputs[f"proposal_scores_{i}"] = s
    outputs["box_features"] = box_feats
    outputs["class_logits"] = class_logits
    outputs["box_regression"] = box_regression
    for i, d in enumerate(dets):
        outputs[f"boxes_{i}"] = d["boxes"]
        outputs[f"scores_{i}"] = d["scores"]
        outputs[f"labels_{i}"] = d["labels"]
        outputs[f"final_boxes_{i}"] = final[i]["boxes"]
        outputs[f"single_boxes_{i}"] = singles[i]["boxes"]
        outputs[f"single_scores_{i}"] = singles[i]["scores"]
        outputs[f"single_labels_{i}"] = singles[i]["labels"]
    return Export(model, inputs, outputs)
