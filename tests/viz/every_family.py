#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# detlab visualize grad-cam and occlusion on a model of every shipped BCCD config (experiments/bccd/*.yaml): each
# is trained briefly on a few BCCD images (the point is that every family's model can be explained, not what
# it learned), then both methods run on one test image and must write their PNG, CSV and JSON with finite values.
# A config that trains no model (the data set base, the comparison, selective search alone) is listed with why.
# Usage: every_family.py DETLAB [WORK_DIR]   (ctest runs it as cli_visualize_every_family, from the repo root)
import glob
import json
import math
import os
import shutil
import subprocess
import sys
import time

# Configs that train no model, with the reason.
NOT_MODELS = {
    "base.yaml": "the data set and evaluation every BCCD config inherits",
    "compare.yaml": "a comparison spec (detlab compare) over the other configs",
    "selective_search_fast.yaml": "selective search alone (eval-proposals)",
    "selective_search_quality.yaml": "selective search alone (eval-proposals)",
    "selective_search_cached.yaml": "selective search alone (eval-proposals)",
}

# A few optimizer steps each; low score thresholds so that a barely trained model still has a detection #0.
DEEP_STEPS = ["detector.train.iterations=3", "detector.train.warmup_iters=0", "detector.train.batch_size=2",
              "detector.train.log_every=1", "detector.train.checkpoint_every=1000"]
BRIEF = {
    "classifier.yaml": ["classifier.train.epochs=1", "classifier.crop.per_class=8", "classifier.train.batch_size=8",
                        "classifier.train.loader.workers=0"],
    "hog_svm.yaml": ["detector.classifier.mining.rounds=0", "detector.postprocess.score_thresh=0"],
    "dlib_fhog.yaml": ["detector.max_images=4", "detector.adjust_threshold=-10", "detector.postprocess.score_thresh=0"],
    "rcnn.yaml": DEEP_STEPS + ["detector.classifier.mining.rounds=0", "detector.postprocess.score_thresh=0"],
    "fast_rcnn.yaml": DEEP_STEPS + ["detector.postprocess.score_thresh=0"],
    "faster_rcnn.yaml": DEEP_STEPS + ["detector.postprocess.score_thresh=0"],
    "retinanet.yaml": DEEP_STEPS + ["detector.postprocess.score_thresh=0"],
    "ssd.yaml": DEEP_STEPS + ["detector.postprocess.score_thresh=0"],
    "ssdlite.yaml": DEEP_STEPS + ["detector.postprocess.score_thresh=0"],
    "yolo.yaml": DEEP_STEPS,
    "yolo_paper.yaml": DEEP_STEPS + ["detector.train.milestones=[1,2]"],
    "detr.yaml": DEEP_STEPS,
}


def tiny_bccd(repo, work):
    """A VOC folder over the shipped BCCD images: 6 training, 2 validation and 2 test images."""
    root = os.path.join(work, "bccd_tiny")
    main = os.path.join(root, "ImageSets", "Main")
    os.makedirs(main, exist_ok=True)
    for sub in ("JPEGImages", "Annotations"):
        link = os.path.join(root, sub)
        if not os.path.exists(link):
            os.symlink(os.path.join(repo, "datasets", "bccd", sub), link)
    for split, n in (("train", 6), ("val", 2), ("test", 2)):
        with open(os.path.join(repo, "datasets", "bccd", "ImageSets", "Main", split + ".txt")) as fh:
            names = [line.strip() for line in fh if line.strip()][:n]
        with open(os.path.join(main, split + ".txt"), "w") as fh:
            fh.write("\n".join(names) + "\n")
    return root


def run(cmd):
    start = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout, time.time() - start


def check_outputs(folder, method):
    """The method's PNG, CSV and JSON for detection (or class) 0 of one image, with finite values."""
    pngs = glob.glob(os.path.join(folder, "*_%s_*.png" % method))
    jsons = glob.glob(os.path.join(folder, "*_%s_*.json" % method))
    csvs = glob.glob(os.path.join(folder, "*_%s_*.csv" % method))
    if not (pngs and jsons and csvs):
        return "missing files (%s)" % ", ".join(sorted(os.listdir(folder)) if os.path.isdir(folder) else ["no folder"])
    with open(jsons[0]) as fh:
        meta = json.load(fh)
    with open(csvs[0]) as fh:
        values = [float(v) for line in fh for v in line.strip().split(",") if v.strip()]
    if not values or not all(math.isfinite(v) for v in values):
        return "non-finite or empty values in " + os.path.basename(csvs[0])
    if meta.get("method") is None:
        return "no method in " + os.path.basename(jsons[0])
    return None


def main():
    detlab = os.path.abspath(sys.argv[1])
    repo = os.getcwd()
    work = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else "every_family")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data = tiny_bccd(repo, work)
    configs = sorted(glob.glob(os.path.join(repo, "experiments", "bccd", "*.yaml")))
    failures, rows = [], []
    for config in configs:
        name = os.path.basename(config)
        if name in NOT_MODELS:
            rows.append((name, "-", "-", "no model: " + NOT_MODELS[name]))
            continue
        if name not in BRIEF:
            failures.append("%s: a new BCCD config; add its brief training to tests/viz/every_family.py" % name)
            continue
        model = os.path.join(work, name[:-5])
        sets = ["--set", "dataset.path=" + data]
        for s in BRIEF[name]:
            sets += ["--set", s]
        rc, out, secs = run([detlab, "train", config, "--out", model, "--threads", "2", "-q"] + sets)
        if rc != 0:
            failures.append("%s: train exit %d\n%s" % (name, rc, out[-2000:]))
            rows.append((name, "train failed", "", ""))
            continue
        results = []
        for method, extra in (("grad-cam", []), ("occlusion", ["--size", "64", "--stride", "64"])):
            out_dir = os.path.join(work, "viz", name[:-5], method)
            rc, out, vsecs = run([detlab, "visualize", method, "--model", model, "--out", out_dir, "-n", "1",
                                  "--split", "test", "--threads", "2", "--set", "dataset.path=" + data, "-q"] + extra)
            problem = ("exit %d: %s" % (rc, out.strip().splitlines()[-1] if out.strip() else "")) if rc else \
                check_outputs(out_dir, method)
            if problem:
                failures.append("%s: visualize %s: %s" % (name, method, problem))
            results.append("ok %.1f s" % vsecs if not problem else "FAILED")
        rows.append((name, "%.1f s" % secs, results[0], results[1]))
    print("| config | training | grad-cam | occlusion |\n|---|---|---|---|")
    for r in rows:
        print("| %s |" % " | ".join(r))
    for f in failures:
        print("FAILED: " + f)
    print("%d configs, %d failures" % (len(configs), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
