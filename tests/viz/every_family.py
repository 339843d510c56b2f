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
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from bccd_brief import configs, prepare, report, run, train_briefly  # noqa: E402


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
    detlab, repo, work, data = prepare("every_family")
    failures, rows = [], []
    for name, config, no_model in configs(repo, failures):
        if no_model:
            rows.append((name, "-", "-", "no model: " + no_model))
            continue
        model = os.path.join(work, name[:-5])
        rc, out, secs = train_briefly(detlab, config, model, data)
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
    return report(("config", "training", "grad-cam", "occlusion"), rows, failures, "%d configs" % len(rows))


if __name__ == "__main__":
    sys.exit(main())
