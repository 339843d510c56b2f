# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# PyTorch peer of bench_train_throughput: small_resnet (torchvision BasicBlocks, widths 16/32/64/128, 3x3 stride-2
# stem + max pool) + dense head + the same loss, SGD with momentum, on 640 x 480 inputs.
# usage: bench_train_throughput_peer.py BATCH THREADS WARMUP ITERS CLASSES
# prints "peer <images per wall second> <parameter count> <images per process CPU second>"
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock


def small_resnet():
    def stage(inplanes, planes, stride):
        down = None
        if stride != 1 or inplanes != planes:
            down = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        return nn.Sequential(BasicBlock(inplanes, planes, stride, down), BasicBlock(planes, planes))

    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1),
        stage(16, 16, 1), stage(16, 32, 2), stage(32, 64, 2), stage(64, 128, 2))


def main():
    batch, threads, warmup, iters, classes = (int(a) for a in sys.argv[1:6])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = nn.Sequential(small_resnet(), nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(128, classes + 1 + 4, 1))
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    images = torch.randn(batch, 3, 480, 640)
    h, w = 15, 20
    cls = torch.full((batch, h, w), classes, dtype=torch.long)
    pos = torch.zeros(batch, 1, h, w)
    cls[:, ::3, ::2] = 0  # about BCCD's 13 boxes per image on distinct cells
    pos[:, :, ::3, ::2] = 1
    reg = torch.rand(batch, 4, h, w)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(warmup + iters):
        if i == warmup:
            t0, c0 = time.perf_counter(), time.process_time()
        out = model(images)
        loss_cls = F.cross_entropy(out[:, :classes + 1], cls)
        box = F.smooth_l1_loss(out[:, classes + 1:], reg, reduction="none")
        loss = loss_cls + (box * pos).sum() / pos.sum().clamp_min(1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print("peer %.4f %d %.4f" % (iters * batch / wall, sum(p.numel() for p in model.parameters()), iters * batch / cpu))


if __name__ == "__main__":
    main()
