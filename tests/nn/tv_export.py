#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Exports random-initialised torchvision models (weights, a fixed input, reference outputs) as C++ parity fixtures.
"""Parity fixtures for detlab's nn/ models, made with Debian's torch 1.13 + torchvision 0.14 (no downloads).

Usage:
    /usr/bin/python3 tests/nn/tv_export.py MODEL OUT_ROOT [--seed 0] [--force]
    /usr/bin/python3 tests/nn/tv_export.py --list

writes OUT_ROOT/MODEL/ (atomically: a temporary folder renamed at the end, so concurrent processes never see a
half-written fixture; the loser of a race discards its copy):
    state_dict.pt    the model's state_dict as a plain dict (torch.save(dict(model.state_dict())))
    inputs.pt        dict name -> tensor (the fixed input(s) the outputs were computed on, "images" mostly,
                     and "seed")
    outputs.pt       dict name -> tensor (eval mode, no grad)
    meta.json        model, seed, versions, shapes of everything above
    (resnet18 only)  state_dict_ts.pt: the same dict in a scripted holder (torch.jit.save), attribute "tensors"
                     module_ts.pt:     torch.jit.script(model) saved with torch.jit.save

Random BatchNorm statistics: a freshly built torchvision model has running_mean = 0, running_var = 1 and affine
weight 1 / bias 0, which would let a C++ model that swaps or ignores those buffers pass. calibrate_bn() therefore
estimates the running statistics on random batches (train mode, cumulative average) and then randomises the
affine parameters, so every BN buffer matters and activations keep magnitudes of order 1.

Adding a model for another parity test (SSD, RetinaNet, Faster R-CNN ...): write a function returning
Export(module, inputs, outputs) and decorate it with @register("name"); capture intermediate outputs with
capture() (forward hooks). C++ tests get the folder through tests/nn/tv_fixture.h: tv_fixture("name").
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
from collections import OrderedDict
from typing import Callable, Dict, List, NamedTuple

import torch
import torchvision
from torch import nn
from torchvision.models import mobilenet_v3_large, mobilenet_v3_small, resnet18, resnet50, vgg16
from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
from torchvision.models.resnet import BasicBlock, ResNet
from torchvision.models.vgg import VGG, make_layers
from torchvision.ops.feature_pyramid_network import LastLevelP6P7
from torchvision.ops.misc import FrozenBatchNorm2d


class Export(NamedTuple):
    module: nn.Module
    inputs: Dict[str, torch.Tensor]
    outputs: Dict[str, torch.Tensor]


EXPORTS: Dict[str, Callable[[], Export]] = OrderedDict()
TORCHSCRIPT_TOO = {"resnet18"}  # the TorchScript variants are only needed once (reader tests)


def register(name: str):
    def wrap(fn):
        EXPORTS[name] = fn
        return fn

    return wrap


def calibrate_bn(model: nn.Module, shape, batches: int = 2) -> None:
    """Gives every BatchNorm2d realistic, non-trivial running statistics and affine parameters (see above)."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    momenta = [bn.momentum for bn in bns]
    with torch.no_grad():
        for bn in bns:
            # affine first: statistics estimated afterwards keep eval-mode activations at train-mode magnitudes
            bn.weight.uniform_(0.5, 1.5)  # scale away from 1 so that a dropped weight shows
            bn.bias.normal_(0.0, 0.2)  # and a bias away from 0
            bn.reset_running_stats()
            bn.momentum = None  # cumulative moving average over the calibration batches
        model.train()
        for _ in range(batches):
            model(torch.randn(*shape))
    for bn, momentum in zip(bns, momenta):
        bn.momentum = momentum
    model.eval()


def capture(model: nn.Module, taps: Dict[str, nn.Module]):
    """Registers forward hooks; returns (dict filled on forward, handles). Outputs are cloned (inplace ops)."""
    store: Dict[str, torch.Tensor] = OrderedDict()
    handles = []
    for name, module in taps.items():
        handles.append(module.register_forward_hook(lambda m, i, o, name=name: store.__setitem__(name, o.clone())))
    return store, handles


def classifier_export(model: nn.Module, taps: Dict[str, nn.Module], shape=(1, 3, 224, 224)) -> Export:
    calibrate_bn(model, (2,) + tuple(shape[1:]))
    model.eval()
    images = torch.randn(*shape)
    store, handles = capture(model, taps)
    with torch.no_grad():
        logits = model(images)
    for h in handles:
        h.remove()
    outputs = OrderedDict(logits=logits)
    outputs.update(store)
    return Export(model, {"images": images}, outputs)


def resnet_taps(model) -> Dict[str, nn.Module]:
    return OrderedDict((f"layer{i}", getattr(model, f"layer{i}")) for i in range(1, 5))


@register("resnet18")
def _resnet18():
    m = resnet18(weights=None)
    return classifier_export(m, resnet_taps(m))


@register("resnet50")
def _resnet50():
    m = resnet50(weights=None)
    return classifier_export(m, resnet_taps(m))


def vgg_taps(features: nn.Sequential, names: List[str]) -> Dict[str, nn.Module]:
    """detlab's VGG tap names: convS_K = the ReLU after the K-th convolution of stage S (stages end at max pools),
    poolS = the S-th max pool. vgg16: conv4_3 = features.22, conv5_3 = features.29."""
    taps, stage, conv = {}, 1, 0
    for module in features:
        if isinstance(module, nn.Conv2d):
            conv += 1
        elif isinstance(module, nn.ReLU):
            taps[f"conv{stage}_{conv}"] = module
        elif isinstance(module, nn.MaxPool2d):
            taps[f"pool{stage}"] = module
            stage, conv = stage + 1, 0
    return OrderedDict((n, taps[n]) for n in names)


@register("vgg16")
def _vgg16():
    m = vgg16(weights=None)
    return classifier_export(m, vgg_taps(m.features, ["conv4_3", "conv5_3"]))


def mobilenet_taps(m) -> Dict[str, nn.Module]:
    # torchvision's detection taps: fasterrcnn_mobilenet_v3_large_fpn returns the outputs of the last two stage
    # ends (features.13, features.16 for Large); ssdlite320 splits block 13 after its expansion conv.
    last = len(m.features) - 1
    cn = [i for i, b in enumerate(m.features) if getattr(b, "_is_cn", False)]
    return OrderedDict(
        [
            (f"features.{cn[-1]}.block.0", m.features[cn[-1]].block[0]),
            (f"features.{cn[-1]}", m.features[cn[-1]]),
            (f"features.{last}", m.features[last]),
        ]
    )


@register("mobilenet_v3_large")
def _mobilenet_v3_large():
    m = mobilenet_v3_large(weights=None)
    return classifier_export(m, mobilenet_taps(m))


@register("mobilenet_v3_small")
def _mobilenet_v3_small():
    m = mobilenet_v3_small(weights=None)
    return classifier_export(m, mobilenet_taps(m))


def small_resnet(num_classes: int = 10) -> ResNet:
    """detlab's small_resnet preset written with torchvision's own ResNet pieces (same module names):
    3x3 stride-2 stem with 16 channels + 3x3 stride-2 max pool, BasicBlock x [2, 2, 2, 2], widths 16/32/64/128."""
    m = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)
    m.inplanes = 16
    m.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=2, padding=1, bias=False)
    m.bn1 = nn.BatchNorm2d(16)
    m.layer1 = m._make_layer(BasicBlock, 16, 2)
    m.layer2 = m._make_layer(BasicBlock, 32, 2, stride=2)
    m.layer3 = m._make_layer(BasicBlock, 64, 2, stride=2)
    m.layer4 = m._make_layer(BasicBlock, 128, 2, stride=2)
    m.fc = nn.Linear(128, num_classes)
    return m


@register("small_resnet")
def _small_resnet():
    m = small_resnet(10)
    return classifier_export(m, resnet_taps(m), shape=(1, 3, 250, 330))


SMALL_VGG_CFG: List = [16, "M", 32, "M", 64, 64, "M", 128, 128, "M", 128, 128, "M"]


@register("small_vgg")
def _small_vgg():
    """detlab's small_vgg preset: VGG features of SMALL_VGG_CFG, 1x1 average pool, 256-wide classifier."""
    m = VGG(make_layers(SMALL_VGG_CFG), num_classes=10)
    m.avgpool = nn.AdaptiveAvgPool2d(1)
    m.classifier = nn.Sequential(
        nn.Linear(128, 256), nn.ReLU(True), nn.Dropout(), nn.Linear(256, 256), nn.ReLU(True), nn.Dropout(),
        nn.Linear(256, 10),
    )
    return classifier_export(m, vgg_taps(m.features, ["conv3_2", "conv4_2", "conv5_2", "pool5"]), shape=(1, 3, 256, 320))


def fpn_export(make_body: Callable[[Callable], nn.Module], frozen: bool, shape, **fpn_kwargs) -> Export:
    """BackboneWithFPN as torchvision's detection builders make it. With frozen=True the body uses
    FrozenBatchNorm2d (as every pretrained torchvision detector does); its buffers come from a calibrated
    BatchNorm2d twin."""
    twin = _resnet_fpn_extractor(make_body(nn.BatchNorm2d), **fpn_kwargs)
    calibrate_bn(twin, (2,) + tuple(shape[1:]))
    if frozen:
        model = _resnet_fpn_extractor(make_body(FrozenBatchNorm2d), **fpn_kwargs)
        model.load_state_dict(twin.state_dict())  # FrozenBatchNorm2d drops num_batches_tracked
    else:
        model = twin
    model.eval()
    images = torch.randn(*shape)
    with torch.no_grad():
        outputs = OrderedDict(model(images))
    return Export(model, {"images": images}, outputs)


@register("fasterrcnn_resnet50_fpn_backbone")
def _fasterrcnn_backbone():
    # model.backbone of fasterrcnn_resnet50_fpn with pretrained-style FrozenBatchNorm2d, trainable_layers 3.
    # Odd input size on purpose: exercises ceil() strides and the nearest-neighbour top-down resize.
    return fpn_export(lambda norm: resnet50(weights=None, norm_layer=norm), True, (1, 3, 250, 330),
                      trainable_layers=3)


@register("resnet18_fpn_p6p7")
def _retinanet_style():
    # RetinaNet v1 layout: layers 2..4, LastLevelP6P7(256, 256) (P6 from P5).
    return fpn_export(lambda norm: resnet18(weights=None, norm_layer=norm), True, (1, 3, 250, 330),
                      trainable_layers=5, returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(256, 256))


@register("resnet18_fpn_v2_c5")
def _v2_style():
    # v2 layouts: BatchNorm2d inside the FPN blocks (fasterrcnn_resnet50_fpn_v2) and P6 from C5
    # (retinanet_resnet50_fpn_v2's LastLevelP6P7(2048, 256); 512 for ResNet-18), BatchNorm2d body.
    return fpn_export(lambda norm: resnet18(weights=None, norm_layer=norm), False, (1, 3, 250, 330),
                      trainable_layers=5, returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(512, 256),
                      norm_layer=nn.BatchNorm2d)


class TensorDict(nn.Module):
    """A scripted holder for a dict of tensors (the TorchScript way to ship a state dict to C++)."""

    def __init__(self, tensors: Dict[str, torch.Tensor]):
        super().__init__()
        self.tensors = tensors

    def forward(self) -> Dict[str, torch.Tensor]:
        return self.tensors


def shapes(d: Dict[str, torch.Tensor]) -> Dict[str, List[int]]:
    return {k: list(v.shape) for k, v in d.items()}


def write_fixture(name: str, root: str, seed: int, force: bool) -> str:
    final = os.path.join(root, name)
    if os.path.isfile(os.path.join(final, "meta.json")) and not force:
        return final
    os.makedirs(root, exist_ok=True)
    torch.manual_seed(seed)
    exp = EXPORTS[name]()
    tmp = tempfile.mkdtemp(prefix=f".{name}.tmp.", dir=root)
    try:
        state = OrderedDict(exp.module.state_dict())
        torch.save(dict(state), os.path.join(tmp, "state_dict.pt"))  # plain dict: LibTorch cannot read OrderedDict
        # LibTorch 1.13 cannot unpickle a one-entry dict (Python writes it with SETITEM): inputs.pt carries the seed.
        torch.save(dict(exp.inputs, seed=torch.tensor(seed)), os.path.join(tmp, "inputs.pt"))
        torch.save(dict(exp.outputs), os.path.join(tmp, "outputs.pt"))
        if name in TORCHSCRIPT_TOO:
            torch.jit.save(torch.jit.script(TensorDict(dict(state))), os.path.join(tmp, "state_dict_ts.pt"))
            torch.jit.save(torch.jit.script(exp.module), os.path.join(tmp, "module_ts.pt"))
        meta = {
            "model": name,
            "seed": seed,
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "state_dict_keys": list(state.keys()),
            "inputs": shapes(exp.inputs),
            "outputs": shapes(exp.outputs),
        }
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
        if force and os.path.isdir(final):
            trash = tempfile.mkdtemp(prefix=f".{name}.old.", dir=root)
            os.rename(final, os.path.join(trash, name))
            shutil.rmtree(trash)
        try:
            os.rename(tmp, final)
        except OSError:
            if not os.path.isfile(os.path.join(final, "meta.json")):
                raise
            shutil.rmtree(tmp)  # another process finished the same fixture first: keep theirs
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


# Detector families keep their exports in their own files (tests/nn/tv_export_<family>.py); each registers into
# EXPORTS through this module, imported under its own name (also when this file runs as a script).
sys.modules.setdefault("tv_export", sys.modules[__name__])
for _family in sorted(os.listdir(os.path.dirname(os.path.abspath(__file__)))):
    if _family.startswith("tv_export_") and _family.endswith(".py"):
        __import__(_family[:-3])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", nargs="?", help="one of --list")
    p.add_argument("out_root", nargs="?", help="fixtures go to OUT_ROOT/MODEL/")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true", help="rebuild even if the fixture exists")
    p.add_argument("--list", action="store_true", help="print the models this script exports")
    a = p.parse_args(argv)
    if a.list:
        print("\n".join(EXPORTS))
        return 0
    if not a.model or not a.out_root:
        p.error("MODEL and OUT_ROOT are required")
    if a.model not in EXPORTS:
        p.error(f"unknown model {a.model!r}; known: {', '.join(EXPORTS)}")
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    print(write_fixture(a.model, a.out_root, a.seed, a.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
