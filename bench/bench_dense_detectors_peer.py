#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Peer of bench_dense_detectors.cpp: torchvision's SSDlite320 / RetinaNet-R50-FPN, their weights, input and timing.
"""torchvision side of bench/bench_dense_detectors.cpp (Debian's torch 1.13 + torchvision 0.14).

bench_dense_detectors starts this script and talks to it over stdin / stdout, one command per line, so that the
two sides run alternately on the same weights and image (never at the same time):

    make DIR SIZE       build the models (tests/nn/tv_export.py's random, calibrated weights; RetinaNet's
                        transform at min_size SIZE, max_size SIZE * 1333 / 800), write DIR/<model>/state_dict.pt,
                        DIR/<model>/inputs.pt (raw_image: H x W x 3 uint8 RGB; images / image_size: the transformed
                        batch) and DIR/<model>/outputs.pt (the detections in original pixels); reply "ok <cases>"
    threads N           torch.set_num_threads(N); reply "ok"
    time CASE REPS      run CASE REPS times after one warm-up; reply "ok <ms> <ms> ..."
    quit                exit

Cases: <model>_full runs model([image]) (transform, network, post-processing, mapping back to the image);
<model>_net runs backbone, head, anchors and postprocess_detections on the already transformed batch.
Both in eval mode under torch.inference_mode().
"""
import os
import sys

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "nn"))
sys.path.insert(0, os.path.join(REPO, "bench"))
import peer_protocol  # noqa: E402
import tv_export  # noqa: E402  (imports tv_export_dense.py, which registers the detection models)

MODELS = ["ssdlite320_mobilenet_v3_large", "retinanet_resnet50_fpn"]
state = {}


def raw_image(height=480, width=640):
    """A BCCD-sized smooth random image with noise (uint8, H x W x 3), the same recipe as the parity fixtures."""
    g = torch.Generator().manual_seed(7)
    base = torch.nn.functional.interpolate(torch.rand(1, 3, height // 16, width // 16, generator=g),
                                           size=(height, width), mode="bilinear", align_corners=False)[0]
    img = (base * 200 + torch.rand(3, height, width, generator=g) * 55).clamp(0, 255).round().to(torch.uint8)
    return img.permute(1, 2, 0).contiguous()


def net_only(model, images):
    feats = list(model.backbone(images.tensors).values())
    head = model.head(feats)
    anchors = model.anchor_generator(images, feats)
    if hasattr(model, "neg_to_pos_ratio"):  # SSD
        return model.postprocess_detections(head, anchors, images.image_sizes)
    hw = [f.size(2) * f.size(3) for f in feats]
    a = head["cls_logits"].size(1) // sum(hw)
    split = [n * a for n in hw]
    return model.postprocess_detections({k: list(v.split(split, dim=1)) for k, v in head.items()},
                                        [list(x.split(split)) for x in anchors], images.image_sizes)


def run(case):
    model_name, kind = case.rsplit("_", 1)
    model, image, images = state[model_name]
    with torch.inference_mode():
        if kind == "full":
            return model([image])
        return net_only(model, images)


def make(root, size):
    raw = raw_image()
    image = raw.permute(2, 0, 1).float() / 255.0
    for name in MODELS:
        torch.manual_seed(0)
        model = tv_export.EXPORTS[name]().module.eval()
        if name.startswith("retinanet"):
            model.transform.min_size = (size,)
            model.transform.max_size = size * 1333 // 800
        with torch.inference_mode():
            images, _ = model.transform([image])
            out = model([image])[0]
        state[name] = (model, image, images)
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        torch.save(dict(model.state_dict()), os.path.join(d, "state_dict.pt"))
        torch.save({"raw_image": raw, "images": images.tensors,
                    "image_size": torch.tensor(list(images.image_sizes[0]))}, os.path.join(d, "inputs.pt"))
        torch.save({"boxes": out["boxes"], "scores": out["scores"], "labels": out["labels"]},
                   os.path.join(d, "outputs.pt"))
    return [f"{m}_{k}" for m in MODELS for k in ("net", "full")]


def main():
    peer_protocol.serve(lambda args: make(args[0], int(args[1])), run)


if __name__ == "__main__":
    main()
