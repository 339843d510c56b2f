#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Computes torchvision.ops / det_utils results on fixed seeded inputs: the parity fixtures of tests/nn/test_ops_*,
# test_modeling_* and test_losses*.
"""Parity fixtures for detlab's nn/ops, nn/modeling and nn/losses (Debian's torch 1.13 + torchvision 0.14).

Usage:
    /usr/bin/python3 tests/nn/tv_ops_fixtures.py OUT_DIR [NAME ...]

writes OUT_DIR/NAME.pt for every fixture (all of them when no NAME is given). Each file is torch.save() of a
plain dict str -> tensor / int / float / bool (torch::pickle_load in LibTorch reads it); several cases in one file
use keys "<case>.<field>" and "cases" holds their count. Files are written to a temporary name and renamed, so
concurrent test processes never read a half-written fixture. Inputs are drawn from torch.Generator seeded per
fixture, so the files are reproducible; the C++ tests read inputs and expected outputs from them.
"""
import math
import os
import sys
import tempfile

import torch
import torch.nn.functional as F
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import boxes as box_ops

FIXTURES = {}


def fixture(fn):
    FIXTURES[fn.__name__] = fn
    return fn


def rand_boxes(g, n, lo=-10.0, hi=70.0, min_size=0.0, max_size=40.0, dtype=torch.float32):
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * (hi - lo) + lo
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * (max_size - min_size) + min_size
    return torch.cat([xy, xy + wh], 1).to(dtype)


def rois_for(g, n, batch, **kw):
    boxes = rand_boxes(g, n, **kw)
    # A few malformed RoIs (x2 < x1, zero size) exercise the legacy clamp and the empty-grid paths.
    boxes[0] = torch.tensor([30.0, 20.0, 10.0, 5.0])
    boxes[1] = torch.tensor([12.0, 12.0, 12.0, 12.0])
    boxes[2] = torch.tensor([-30.0, -30.0, -20.0, -25.0])  # entirely outside the map
    idx = torch.randint(0, batch, (n, 1), generator=g).to(boxes.dtype)
    return torch.cat([idx, boxes], 1)


@fixture
def roi_align():
    g = torch.Generator().manual_seed(1)
    out = {}
    configs = [  # (aligned, sampling_ratio, spatial_scale, out_h, out_w, dtype)
        (True, 2, 0.25, 7, 7, torch.float32),
        (False, 2, 0.25, 7, 7, torch.float32),
        (True, -1, 0.25, 5, 4, torch.float32),
        (False, 0, 0.5, 3, 6, torch.float32),
        (True, 1, 1.0, 2, 2, torch.float32),
        (False, 3, 0.125, 7, 7, torch.float64),
    ]
    for i, (aligned, sr, scale, oh, ow, dtype) in enumerate(configs):
        x = torch.randn(2, 3, 13, 17, generator=g, dtype=dtype).requires_grad_(True)
        rois = rois_for(g, 24, 2, lo=-10 / scale * 0.25, hi=70 / scale * 0.25, max_size=40 / scale * 0.25).to(dtype)
        y = torchvision.ops.roi_align(x, rois, (oh, ow), spatial_scale=scale, sampling_ratio=sr, aligned=aligned)
        go = torch.randn(y.shape, generator=g, dtype=dtype)
        (gx,) = torch.autograd.grad(y, x, go)
        out.update({f"{i}.input": x.detach(), f"{i}.rois": rois, f"{i}.output": y.detach(), f"{i}.grad_output": go,
                    f"{i}.grad_input": gx, f"{i}.aligned": aligned, f"{i}.sampling_ratio": sr,
                    f"{i}.spatial_scale": scale, f"{i}.output_height": oh, f"{i}.output_width": ow})
    out["cases"] = len(configs)
    return out


@fixture
def roi_pool():
    g = torch.Generator().manual_seed(2)
    out = {}
    configs = [(0.25, 7, 7, torch.float32), (0.5, 3, 5, torch.float32), (1.0, 2, 2, torch.float64)]
    for i, (scale, oh, ow, dtype) in enumerate(configs):
        x = torch.randn(2, 4, 13, 17, generator=g, dtype=dtype).requires_grad_(True)
        # Rounding of the scaled corners matters: include corners at exact .5 multiples after scaling.
        rois = rois_for(g, 24, 2, lo=-10 / scale * 0.25, hi=70 / scale * 0.25, max_size=40 / scale * 0.25).to(dtype)
        rois[3, 1:] = torch.tensor([2.0, 6.0, 10.0, 14.0], dtype=dtype) / scale  # .5 after scale 0.25 * 2 / ...
        rois[4, 1:] = torch.tensor([0.5, 1.5, 2.5, 3.5], dtype=dtype) / scale
        y, argmax = torch.ops.torchvision.roi_pool(x, rois, scale, oh, ow)
        go = torch.randn(y.shape, generator=g, dtype=dtype)
        (gx,) = torch.autograd.grad(y, x, go)
        out.update({f"{i}.input": x.detach(), f"{i}.rois": rois, f"{i}.output": y.detach(), f"{i}.argmax": argmax,
                    f"{i}.grad_output": go, f"{i}.grad_input": gx, f"{i}.spatial_scale": scale,
                    f"{i}.output_height": oh, f"{i}.output_width": ow})
    out["cases"] = len(configs)
    return out


def nms_boxes(g, n, dtype=torch.float32):
    ctr = torch.rand(n, 2, generator=g, dtype=torch.float64) * 200
    size = torch.rand(n, 2, generator=g, dtype=torch.float64) * 60 + 4
    return torch.cat([ctr - size / 2, ctr + size / 2], 1).to(dtype)


@fixture
def nms():
    g = torch.Generator().manual_seed(3)
    out = {}
    i = 0
    for n, dtype in [(600, torch.float32), (300, torch.float64)]:
        for thr in (0.3, 0.5, 0.7):
            boxes = nms_boxes(g, n, dtype)
            scores = torch.rand(n, generator=g, dtype=dtype)
            scores[10:20] = scores[5]  # ties: the stable order keeps the lower index first
            boxes[30] = boxes[31]  # duplicates (IoU 1)
            keep = torchvision.ops.nms(boxes, scores, thr)
            out.update({f"{i}.boxes": boxes, f"{i}.scores": scores, f"{i}.iou_threshold": thr, f"{i}.keep": keep})
            i += 1
    out["cases"] = i
    return out


@fixture
def batched_nms():
    g = torch.Generator().manual_seed(4)
    out = {}
    # Small case: torchvision uses the coordinate-offset trick; coordinates on a 1/4 grid keep the offsets exact.
    # Large case (> 4000 coordinates): torchvision loops over the categories.
    for i, (n, classes, quantise) in enumerate([(400, 5, True), (1500, 7, False)]):
        boxes = nms_boxes(g, n)
        if quantise:
            boxes = (boxes * 4).round() / 4
        scores = torch.rand(n, generator=g)
        idxs = torch.randint(0, classes, (n,), generator=g) * 3 - 4  # arbitrary (negative, sparse) category ids
        keep = torchvision.ops.batched_nms(boxes, scores, idxs, 0.5)
        out.update({f"{i}.boxes": boxes, f"{i}.scores": scores, f"{i}.idxs": idxs, f"{i}.iou_threshold": 0.5,
                    f"{i}.keep": keep})
    out["cases"] = 2
    return out


@fixture
def box_iou():
    g = torch.Generator().manual_seed(5)
    b1 = rand_boxes(g, 50, max_size=30)
    b2 = rand_boxes(g, 70, max_size=30)
    b1[0] = b1[1]  # identical pair
    b2[0] = torch.tensor([5.0, 5.0, 5.0, 9.0])  # zero-area box
    ib1 = (rand_boxes(g, 20) * 2).to(torch.int64)
    ib2 = (rand_boxes(g, 30) * 2).to(torch.int64)
    ib2[:, 2:] = torch.maximum(ib2[:, 2:], ib2[:, :2] + 1)
    ib1[:, 2:] = torch.maximum(ib1[:, 2:], ib1[:, :2] + 1)
    return {"boxes1": b1, "boxes2": b2, "iou": box_ops.box_iou(b1, b2), "giou": box_ops.generalized_box_iou(b1, b2),
            "area1": box_ops.box_area(b1), "int_boxes1": ib1, "int_boxes2": ib2,
            "int_iou": box_ops.box_iou(ib1, ib2), "int_giou": box_ops.generalized_box_iou(ib1, ib2)}


@fixture
def boxes():
    g = torch.Generator().manual_seed(6)
    b = rand_boxes(g, 40, lo=-20, hi=80, max_size=30)
    out = {"boxes": b, "clipped": box_ops.clip_boxes_to_image(b, (50, 60)),
           "clipped3d": box_ops.clip_boxes_to_image(b.view(4, 10, 4), (45, 33)),
           "small_kept": box_ops.remove_small_boxes(b, 12.5), "area": box_ops.box_area(b)}
    for fin in ("xyxy", "xywh", "cxcywh"):
        for fout in ("xyxy", "xywh", "cxcywh"):
            out[f"convert.{fin}.{fout}"] = box_ops.box_convert(b, fin, fout)
    return out


@fixture
def box_coder():
    g = torch.Generator().manual_seed(7)
    out = {}
    for i, weights in enumerate([(10.0, 10.0, 5.0, 5.0), (1.0, 1.0, 1.0, 1.0), (2.0, 3.0, 0.5, 7.0)]):
        coder = det_utils.BoxCoder(weights)
        proposals = [rand_boxes(g, 30, min_size=1.0), rand_boxes(g, 20, min_size=1.0)]
        gts = [rand_boxes(g, 30, min_size=1.0), rand_boxes(g, 20, min_size=1.0)]
        enc = coder.encode(gts, proposals)
        codes = torch.randn(50, 12, generator=g) * 2
        codes[0, 2] = 100.0  # beyond bbox_xform_clip: exp() is clamped
        codes[1, 3] = 80.0
        dec = coder.decode(codes, proposals)
        out.update({f"{i}.weights": torch.tensor(weights, dtype=torch.float64), f"{i}.proposals0": proposals[0],
                    f"{i}.proposals1": proposals[1], f"{i}.gts0": gts[0], f"{i}.gts1": gts[1],
                    f"{i}.encoded0": enc[0], f"{i}.encoded1": enc[1], f"{i}.codes": codes, f"{i}.decoded": dec,
                    f"{i}.decoded_single": coder.decode_single(codes, torch.cat(proposals))})
    out["cases"] = 3
    return out


@fixture
def anchor_generator():
    out = {}
    fpn_sizes = ((32,), (64,), (128,), (256,), (512,))
    retina_sizes = tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [32, 64, 128, 256, 512])
    retina_float = tuple((x, x * 2 ** (1.0 / 3), x * 2 ** (2.0 / 3)) for x in [32, 64, 128, 256, 512])
    configs = [  # (sizes, aspect ratios, image H x W, feature map sizes)
        (((128, 256, 512),), ((0.5, 1.0, 2.0),), (600, 904), [(37, 57)]),
        (fpn_sizes, ((0.5, 1.0, 2.0),) * 5, (800, 1088), [(200, 272), (100, 136), (50, 68), (25, 34), (13, 17)]),
        (retina_sizes, ((0.5, 1.0, 2.0),) * 5, (640, 512), [(80, 64), (40, 32), (20, 16), (10, 8), (5, 4)]),
        (retina_float, ((0.5, 1.0, 2.0),) * 5, (333, 517), [(42, 65), (21, 33), (11, 17), (6, 9), (3, 5)]),
    ]
    for i, (sizes, ratios, (h, w), fmaps) in enumerate(configs):
        gen = AnchorGenerator(sizes, ratios)
        images = ImageList(torch.zeros(2, 3, h, w), [(h, w), (h - 10, w - 20)])
        feats = [torch.zeros(2, 8, fh, fw) for fh, fw in fmaps]
        anchors = gen(images, feats)
        out[f"{i}.levels"] = len(sizes)
        for l, (s, r) in enumerate(zip(sizes, ratios)):
            out[f"{i}.sizes{l}"] = torch.tensor(s, dtype=torch.float64)
            out[f"{i}.ratios{l}"] = torch.tensor(r, dtype=torch.float64)
            out[f"{i}.fmap{l}"] = torch.tensor(fmaps[l], dtype=torch.int64)
            out[f"{i}.cell{l}"] = gen.cell_anchors[l]
        out[f"{i}.image"] = torch.tensor([h, w], dtype=torch.int64)
        out[f"{i}.anchors"] = anchors[0]
        out[f"{i}.num_images"] = len(anchors)
    out["cases"] = len(configs)
    return out


@fixture
def matcher():
    g = torch.Generator().manual_seed(8)
    out = {}
    i = 0
    for high, low, allow in [(0.7, 0.3, True), (0.7, 0.3, False), (0.5, 0.5, False), (0.5, 0.4, True)]:
        for m, n in [(5, 200), (1, 30), (12, 1000)]:
            q = (torch.rand(m, n, generator=g) * 40).floor() / 40  # coarse values: ties, exact threshold hits
            q[:, :3] = 0.0
            matches = det_utils.Matcher(high, low, allow_low_quality_matches=allow)(q)
            out.update({f"{i}.quality": q, f"{i}.high": high, f"{i}.low": low, f"{i}.allow": allow,
                        f"{i}.matches": matches})
            i += 1
    # IoU-based case: anchors vs ground truth.
    gt = rand_boxes(g, 6, min_size=5)
    anchors = rand_boxes(g, 300, min_size=2)
    q = box_ops.box_iou(gt, anchors)
    out.update({f"{i}.quality": q, f"{i}.high": 0.7, f"{i}.low": 0.3, f"{i}.allow": True,
                f"{i}.matches": det_utils.Matcher(0.7, 0.3, True)(q)})
    out["cases"] = i + 1
    return out


@fixture
def balanced_sampler():
    g = torch.Generator().manual_seed(9)
    out = {}
    configs = [(256, 0.5, 1234), (512, 0.25, 7), (16, 0.5, 99), (64, 0.9, 5)]
    for i, (batch, frac, seed) in enumerate(configs):
        matched = [torch.randint(-1, 4, (n,), generator=g) for n in (3000, 40, 700)]
        matched[1][:] = torch.where(matched[1] > 0, torch.zeros_like(matched[1]), matched[1])  # no positives
        torch.manual_seed(seed)
        pos, neg = det_utils.BalancedPositiveNegativeSampler(batch, frac)(matched)
        out.update({f"{i}.batch": batch, f"{i}.fraction": frac, f"{i}.seed": seed, f"{i}.images": len(matched)})
        for j, m in enumerate(matched):
            out.update({f"{i}.matched{j}": m, f"{i}.pos{j}": pos[j], f"{i}.neg{j}": neg[j]})
    out["cases"] = len(configs)
    return out


@fixture
def losses():
    g = torch.Generator().manual_seed(10)
    out = {}
    x = (torch.randn(64, 4, generator=g) * 0.3).requires_grad_(True)
    t = torch.randn(64, 4, generator=g) * 0.3
    for i, beta in enumerate([1.0 / 9, 1.0, 0.0]):
        for red in ("none", "mean", "sum"):
            loss = F.smooth_l1_loss(x, t, reduction=red, beta=beta)
            out[f"smooth_l1.{i}.{red}"] = loss.detach()
            if red == "sum":
                (gx,) = torch.autograd.grad(loss, x)
                out[f"smooth_l1.{i}.grad"] = gx
        out[f"smooth_l1.{i}.beta"] = beta
    n = torch.abs(x - t)  # legacy det_utils.smooth_l1_loss (maskrcnn-benchmark)
    legacy = torch.where(n < 1.0 / 9, 0.5 * n**2 / (1.0 / 9), n - 0.5 * (1.0 / 9))
    out["det_smooth_l1.mean"] = legacy.mean().detach()
    out["det_smooth_l1.sum"] = legacy.sum().detach()
    out.update({"smooth_l1.input": x.detach(), "smooth_l1.target": t})

    logits = torch.randn(40, 6, generator=g) * 2
    target = torch.randint(0, 6, (40,), generator=g)
    target[:5] = -100
    target[5:8] = 2
    weight = torch.rand(6, generator=g) + 0.5
    out.update({"ce.logits": logits, "ce.target": target, "ce.weight": weight,
                "ce.plain": F.cross_entropy(logits, target.clamp(min=0)),
                "ce.weighted": F.cross_entropy(logits, target, weight=weight),
                "ce.ignore_sum": F.cross_entropy(logits, target, reduction="sum"),
                "ce.none": F.cross_entropy(logits, target.clamp(min=0), reduction="none", ignore_index=2),
                "ce.smooth": F.cross_entropy(logits, target, weight=weight, label_smoothing=0.1)})

    fl = (torch.randn(30, 5, generator=g) * 3).requires_grad_(True)
    ft = (torch.rand(30, 5, generator=g) > 0.7).float()
    out.update({"focal.logits": fl.detach(), "focal.targets": ft})
    for i, (alpha, gamma) in enumerate([(0.25, 2.0), (-1.0, 2.0), (0.5, 0.0), (0.75, 1.5)]):
        for red in ("none", "mean", "sum"):
            loss = torchvision.ops.sigmoid_focal_loss(fl, ft, alpha=alpha, gamma=gamma, reduction=red)
            out[f"focal.{i}.{red}"] = loss.detach()
            if red == "sum":
                (gx,) = torch.autograd.grad(loss, fl)
                out[f"focal.{i}.grad"] = gx
        out[f"focal.{i}.alpha"] = alpha
        out[f"focal.{i}.gamma"] = gamma

    b1 = rand_boxes(g, 50, min_size=1.0).requires_grad_(True)
    b2 = rand_boxes(g, 50, min_size=1.0)
    b2[0] = b1[0].detach()  # identical boxes: loss 0
    b2[1] = torch.tensor([200.0, 200.0, 210.0, 220.0])  # disjoint: loss > 1
    out.update({"giou.boxes1": b1.detach(), "giou.boxes2": b2})
    for red in ("none", "mean", "sum"):
        loss = torchvision.ops.generalized_box_iou_loss(b1, b2, reduction=red)
        out[f"giou.{red}"] = loss.detach()
        if red == "sum":
            (gb,) = torch.autograd.grad(loss, b1)
            out["giou.grad"] = gb
    out["giou.empty_mean"] = torchvision.ops.generalized_box_iou_loss(
        torch.zeros(0, 4), torch.zeros(0, 4), reduction="mean")
    return out


def save_atomic(obj, path):
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".pt", dir=folder)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = argv[1]
    names = argv[2:] or sorted(FIXTURES)
    unknown = [n for n in names if n not in FIXTURES]
    if unknown:
        print(f"unknown fixture(s): {unknown}; known: {sorted(FIXTURES)}", file=sys.stderr)
        return 2
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for name in names:
        save_atomic(dict(FIXTURES[name]()), os.path.join(out_dir, name + ".pt"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
