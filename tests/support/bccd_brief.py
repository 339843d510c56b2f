# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# The shipped BCCD configs trained briefly on a few BCCD images (tests/viz/every_family.py,
# tests/faults/determinism.py): what each needs to train in seconds, and a tiny VOC folder over the shipped images.
import glob
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


def report(header, rows, failures, summary):
    """Prints the markdown table, each failure, a summary line; returns the exit code (1 on any failure)."""
    print("| %s |\n|%s" % (" | ".join(header), "---|" * len(header)))
    for r in rows:
        print("| %s |" % " | ".join(r))
    for f in failures:
        print("FAILED: " + f)
    print("%s, %d failures" % (summary, len(failures)))
    sys.stdout.flush()
    return 1 if failures else 0


def prepare(default_work):
    """detlab (argv[1]), the repository (the working folder), an emptied work folder (argv[2], else
    default_work) and the tiny BCCD inside it."""
    detlab = os.path.abspath(sys.argv[1])
    repo = os.getcwd()
    work = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else default_work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    return detlab, repo, work, tiny_bccd(repo, work)


def configs(repo, failures):
    """(name, path, reason) of every experiments/bccd config: reason is NOT_MODELS' for a config that trains no
    model, None for a model config. A config without a BRIEF entry is a failure and left out."""
    for path in sorted(glob.glob(os.path.join(repo, "experiments", "bccd", "*.yaml"))):
        name = os.path.basename(path)
        if name in NOT_MODELS:
            yield name, path, NOT_MODELS[name]
        elif name not in BRIEF:
            failures.append("%s: a new BCCD config; add its brief training to tests/support/bccd_brief.py" % name)
        else:
            yield name, path, None


def run(cmd):
    """(exit code, stdout and stderr, wall seconds)."""
    start = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout, time.time() - start


def train_briefly(detlab, config, out, data, extra=()):
    """detlab train CONFIG on the tiny BCCD with the config's BRIEF settings; returns run()'s triple."""
    cmd = [detlab, "train", config, "--out", out, "--threads", "2", "-q", "--set", "dataset.path=" + data]
    for s in BRIEF[os.path.basename(config)]:
        cmd += ["--set", s]
    return run(cmd + list(extra))
