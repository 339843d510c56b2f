#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Killed runs lose nothing: each command below is run once to the end (the reference), then again in another
# folder where it is killed with SIGKILL at random moments (a seeded pick over the reference's duration) and
# started again with the same command line (`train` with --resume) until it ends. After every kill, every file
# under its final name must be whole (JSON parses, CSV and text end with a newline, PNG ends with IEND, a
# proposal cache ends with its footer): only temporaries (*.tmp.*, *.partial, .saving.*) may be cut short. At
# the end the metrics must equal the reference's.
# usage: kill_and_rerun.py DETLAB [--kills N] [--seed S]      (ctest: faults_kill_and_rerun)
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TINY_DATA = ["dataset.num_images=32", "dataset.width=128", "dataset.height=128", "dataset.min_size=24",
             "dataset.max_size=56"]


def sets(values):
    out = []
    for v in values:
        out += ["--set", v]
    return out


def commands(detlab, out):
    """(name, argv of a first run, argv of a rerun, what to compare) per command."""
    yolo = sets(TINY_DATA + ["detector.train.iterations=40", "detector.train.checkpoint_every=5",
                             "detector.train.log_every=5", "detector.train.warmup_iters=5",
                             "detector.input.fixed_size=128", "detector.grid_size=4"])
    train = [detlab, "train", "experiments/synthetic/yolo.yaml", "--out", out + "/train", "--eval", "--threads", "1",
             "-q"] + yolo
    proposals = [detlab, "eval-proposals", "experiments/synthetic/hog_svm.yaml", "--split", "all", "--threads", "1",
                 "--save", out + "/proposals/ss.bin", "--out", out + "/proposals", "-q"] + sets(
                     TINY_DATA + ["detector.proposals={type: selective_search, mode: fast, max_proposals: 300}"])
    compare = [detlab, "compare", "tests/faults/compare_tiny.yaml", "--threads", "1", "--out", out + "/compare",
               "--no-plots", "-q"]
    ablate = [detlab, "ablate", "tests/cli/ablate_synthetic.yaml", "--threads", "1", "--out", out + "/ablate",
              "--no-plots", "-q"]
    return [("train", train, train + ["--resume"], "train/metrics.json"),
            ("eval-proposals --save", proposals, proposals, "proposals/proposal_recall.json"),
            ("compare", compare, compare, "compare/summary.json"),
            ("ablate", ablate, ablate, "ablate/results.json")]


def whole(path):
    """Why a file under its final name is not whole, or None."""
    name = os.path.basename(path)
    with open(path, "rb") as f:
        data = f.read()
    if name.endswith(".json"):
        try:
            json.loads(data)
        except ValueError as e:
            return "not whole JSON (%s)" % e
    elif name.endswith((".csv", ".md", ".txt", ".yaml", ".tex")) or name == "latest":
        if data and not data.endswith(b"\n"):
            return "text without its last newline"
    elif name.endswith(".png"):
        if not data.endswith(b"IEND\xaeB`\x82"):
            return "PNG without IEND"
    elif name.endswith(".bin"):
        if not data.endswith(b"DLPREND\x00"):
            return "proposal cache without its footer"
    return None


def check_tree(root):
    bad = []
    for dirpath, dirnames, files in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".saving.")]
        for f in files:
            if ".tmp." in f or f.endswith(".partial"):
                continue
            why = whole(os.path.join(dirpath, f))
            if why:
                bad.append("%s: %s" % (os.path.join(dirpath, f), why))
    return bad


def metrics(path):
    """The numbers to compare: every number in the JSON except times and provenance."""
    skip = ("second", "ms_per", "time", "cpu", "manifest", "collected", "created", "wall", "images_per",
            "elapsed", "hostname", "commit", "dirty", "started", "finished", "duration", "runs", "trained",
            "evaluated", "reused")

    def walk(v, key=""):
        if any(s in key for s in skip):
            return None
        if isinstance(v, dict):
            return {k: walk(x, k) for k, x in sorted(v.items()) if walk(x, k) is not None}
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        return v

    with open(path) as f:
        j = json.load(f)
    name = os.path.basename(path)
    if name == "metrics.json":  # the evaluation itself (a resumed training records where it resumed in `extra`)
        j = {k: j.get(k) for k in ("coco", "voc07", "voc12")}
    elif name == "summary.json":
        j = [[e.get("label"), e.get("metrics"), e.get("per_class")] for e in j.get("entries", [])]
    elif name == "results.json":
        j = j.get("rows")
    elif name == "proposal_recall.json":
        j = {k: j.get(k) for k in ("num_gt", "recall_50", "recall_70", "average_recall", "top_n")}
    return walk(j)


def differences(a, b, path=""):
    """Where two walked JSON values differ (for the failure message)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += differences(a.get(k), b.get(k), path + "." + str(k))
        return out
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, "%s[%d]" % (path, i))
        return out
    return [] if a == b else ["%s: %r vs %r" % (path, a, b)]


def run(argv, timeout=None):
    return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("detlab")
    ap.add_argument("--kills", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    tmp = tempfile.mkdtemp(prefix="detlab_faults_")
    failures, kills = [], 0
    try:
        ref_dir, dir_ = os.path.join(tmp, "reference"), os.path.join(tmp, "killed")
        for (name, first, _, _), (_, first_b, rerun_b, result) in zip(commands(a.detlab, ref_dir),
                                                                    commands(a.detlab, dir_)):
            t0 = time.monotonic()
            r = run(first)
            duration = time.monotonic() - t0
            if r.returncode != 0:
                sys.exit("%s: the reference run failed:\n%s" % (name, r.stderr.decode()[-2000:]))
            points = sorted(rng.uniform(0.05, 0.95) * duration for _ in range(a.kills))
            argv = first_b
            for at in points:
                p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(at)
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    kills += 1
                p.wait()
                failures += ["%s, killed at %.2f s: %s" % (name, at, b) for b in check_tree(dir_)]
                argv = rerun_b
            r = run(argv)
            if r.returncode != 0:
                failures.append("%s: the last rerun failed: %s" % (name, r.stderr.decode()[-1500:]))
                continue
            failures += ["%s, finished: %s" % (name, b) for b in check_tree(dir_)]
            want = metrics(os.path.join(ref_dir, result))
            got = metrics(os.path.join(dir_, result))
            if want != got:
                failures.append("%s: %s differs from the uninterrupted run's: %s" %
                                (name, result, "; ".join(differences(want, got)[:5])))
            print("%s: reference %.1f s, killed at %s s, metrics equal: %s" %
                  (name, duration, ", ".join("%.1f" % t for t in points), want == got))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d kills" % kills)
    for f in failures:
        print("FAIL " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
