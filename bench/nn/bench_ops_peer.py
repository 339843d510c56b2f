#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Peer of bench_ops.cpp: makes the benchmark inputs, computes torchvision.ops references and times torchvision.
"""torchvision side of bench/nn/bench_ops.cpp (Debian's torch 1.13 + torchvision 0.14).

bench_ops starts this script and talks to it over stdin / stdout, one command per line, so that the two sides
can be timed alternately on the same inputs (and never at the same time):

    make DIR            write DIR/<case>.pt (inputs and torchvision's result) for every case; reply "ok <cases>"
    threads N           torch.set_num_threads(N); reply "ok"
    time CASE REPS      run CASE REPS times (after one warm-up call); reply "ok <ms> <ms> ..."
    quit                exit

Inputs come from torch.Generator seeds, so every run benchmarks the same data.
"""
import os
import sys

import torch
import torchvision
from torchvision.ops import batched_nms, box_iou, nms, roi_align, roi_pool

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # bench/
import peer_protocol  # noqa: E402


def rpn_like_boxes(g, n, image=800.0):
    # Box centres anywhere in an 800 x 800 image, sides 16..256 px: the spread of RPN proposals / detections.
    ctr = torch.rand(n, 2, generator=g) * image
    size = torch.rand(n, 2, generator=g) * 240 + 16
    return torch.cat([ctr - size / 2, ctr + size / 2], 1)


def make_cases():
    g = torch.Generator().manual_seed(20240607)
    cases = {}
    # RoI ops: one 256-channel stride-16 map of an 800 x 800 image, 512 RoIs (torchvision's box-head batch).
    fmap = torch.randn(1, 256, 50, 50, generator=g)
    rois = torch.cat([torch.zeros(512, 1), rpn_like_boxes(g, 512).clamp(0, 800)], 1)
    grad = torch.randn(512, 256, 7, 7, generator=g)
    cases["roi_align"] = dict(input=fmap, rois=rois)
    cases["roi_align_backward"] = dict(input=fmap, rois=rois, grad_output=grad)
    cases["roi_pool"] = dict(input=fmap, rois=rois)
    for n in (1000, 10000):
        cases[f"nms_{n}"] = dict(boxes=rpn_like_boxes(g, n), scores=torch.rand(n, generator=g))
    cases["batched_nms_10000"] = dict(boxes=rpn_like_boxes(g, 10000), scores=torch.rand(10000, generator=g),
                                      idxs=torch.randint(0, 80, (10000,), generator=g))
    cases["box_iou_1000x1000"] = dict(boxes1=rpn_like_boxes(g, 1000), boxes2=rpn_like_boxes(g, 1000))
    cases["box_iou_10000x1000"] = dict(boxes1=rpn_like_boxes(g, 10000), boxes2=rpn_like_boxes(g, 1000))
    return cases


def runner(name, c):
    """A zero-argument callable running torchvision on case c, and a function computing its reference result."""
    if name == "roi_align":
        f = lambda: roi_align(c["input"], c["rois"], (7, 7), spatial_scale=1 / 16, sampling_ratio=2, aligned=True)
        return f, f
    if name == "roi_align_backward":
        x = c["input"].clone().requires_grad_(True)

        def f():
            x.grad = None
            y = roi_align(x, c["rois"], (7, 7), spatial_scale=1 / 16, sampling_ratio=2, aligned=True)
            y.backward(c["grad_output"])
            return x.grad

        return f, f
    if name == "roi_pool":
        f = lambda: roi_pool(c["input"], c["rois"], (7, 7), spatial_scale=1 / 16)
        return f, f
    if name.startswith("nms_"):
        f = lambda: nms(c["boxes"], c["scores"], 0.5)
        return f, f
    if name.startswith("batched_nms_"):
        f = lambda: batched_nms(c["boxes"], c["scores"], c["idxs"], 0.5)
        return f, f
    if name.startswith("box_iou_"):
        f = lambda: box_iou(c["boxes1"], c["boxes2"])
        return f, f
    raise KeyError(name)


def save_atomic(obj, path):
    tmp = path + f".tmp{os.getpid()}"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    cases = make_cases()
    runners = {}

    def make(args):
        torch.set_num_threads(1)
        for name, c in cases.items():
            f, ref = runner(name, c)
            runners[name] = f
            with torch.no_grad() if name != "roi_align_backward" else torch.enable_grad():
                result = ref()
            save_atomic({**c, "result": result.detach()}, os.path.join(args[0], name + ".pt"))
        return list(cases)

    peer_protocol.serve(make, lambda case: runners[case]())


if __name__ == "__main__":
    main()
