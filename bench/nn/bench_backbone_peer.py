#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Peer of bench_backbone.cpp: builds the torchvision models, writes their weights and inputs, times torchvision.
"""torchvision side of bench/nn/bench_backbone.cpp (Debian's torch 1.13 + torchvision 0.14).

bench_backbone starts this script and talks to it over stdin / stdout, one command per line, so that the two
sides run alternately on the same weights and inputs (never at the same time):

    make DIR            write DIR/<case>/state_dict.pt, DIR/<case>/inputs.pt (images + seed, labels for training)
                        and DIR/<case>/outputs.pt (torchvision's result); reply "ok <cases>"
    threads N           torch.set_num_threads(N); reply "ok"
    time CASE REPS      run CASE REPS times after one warm-up; reply "ok <ms> <ms> ..."
    quit                exit

The models come from tests/nn/tv_export.py (random weights, calibrated BatchNorm statistics, fixed seed), so the
benchmark and the parity tests use the same definitions. Inference cases run in eval mode under
torch.inference_mode(); the training case is one forward + cross-entropy + backward in train mode.
"""
import os
import sys

import torch
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "nn"))
sys.path.insert(0, os.path.join(REPO, "bench"))
import peer_protocol  # noqa: E402
import tv_export  # noqa: E402

# case -> (tv_export model, input shape, kind). Shapes: ImageNet 224 for the classifiers, a BCCD-sized
# 480 x 640 image for the detection-style cases, a batch of two for the from-scratch training step.
CASES = {
    "resnet50": ("resnet50", (1, 3, 224, 224), "logits"),
    "mobilenet_v3_large": ("mobilenet_v3_large", (1, 3, 224, 224), "logits"),
    "small_resnet": ("small_resnet", (1, 3, 480, 640), "logits"),
    "resnet50_fpn": ("fasterrcnn_resnet50_fpn_backbone", (1, 3, 480, 640), "features"),
    "small_resnet_train": ("small_resnet", (2, 3, 480, 640), "train"),
}

models = {}


def run(case):
    model, x, kind, labels = models[case]
    if kind == "train":
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        return {"loss": loss.detach(), "conv1_grad": model.conv1.weight.grad}
    with torch.inference_mode():
        out = model(x)
    return {"logits": out} if kind == "logits" else dict(out)


def make(root):
    for case, (name, shape, kind) in CASES.items():
        torch.manual_seed(0)
        module = tv_export.EXPORTS[name]().module
        g = torch.Generator().manual_seed(1234)
        x = torch.randn(*shape, generator=g)
        labels = torch.randint(0, 10, (shape[0],), generator=g)
        module.train(kind == "train")
        models[case] = (module, x, kind, labels)
        d = os.path.join(root, case)
        os.makedirs(d, exist_ok=True)
        torch.save(dict(module.state_dict()), os.path.join(d, "state_dict.pt"))
        torch.save({"images": x, "labels": labels}, os.path.join(d, "inputs.pt"))
        if kind == "train":  # the reference step must start from the saved (untouched) BatchNorm statistics
            state = {k: v.clone() for k, v in module.state_dict().items()}
            ref = run(case)
            module.load_state_dict(state)
        else:
            ref = run(case)
        torch.save({**ref, "seed": torch.tensor(1234)}, os.path.join(d, "outputs.pt"))
    return list(CASES)


def main():
    peer_protocol.serve(lambda args: make(args[0]), run)


if __name__ == "__main__":
    main()
