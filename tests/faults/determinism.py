#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Determinism: every shipped BCCD config (experiments/bccd/*.yaml) trained twice with the same seed and threads,
# briefly on a few BCCD images (tests/support/bccd_brief.py) and evaluated, gives byte-identical model files
# (weights, SVMs) and identical metrics. Only what measures time may differ: the seconds columns of train_log.csv,
# train.json's *_seconds and metrics.json's timing; and checkpoints are left out (see files_of).
# Usage: determinism.py DETLAB [WORK_DIR]   (ctest runs it as faults_determinism, from the repo root)
import csv
import glob
import io
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from bccd_brief import configs, prepare, report, train_briefly  # noqa: E402


def without_times(path, data):
    """The file's content with its wall-clock measurements removed (they differ from run to run)."""
    name = os.path.basename(path)
    if name.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(data.decode())))
        if not rows:
            return data
        keep = [i for i, h in enumerate(rows[0]) if not (h.endswith("_s") or h.endswith("seconds"))]
        return "\n".join(",".join(r[i] for i in keep if i < len(r)) for r in rows).encode()
    if name.endswith(".json"):
        doc = json.loads(data)

        def strip(x):
            if isinstance(x, dict):
                return {k: strip(v) for k, v in x.items()
                        if k not in ("timing", "stages_p90") and "seconds" not in k and not k.startswith("ms_per_image")}
            if isinstance(x, list):
                return [strip(v) for v in x]
            return x
        return json.dumps(strip(doc), sort_keys=True).encode()
    return data


def files_of(folder):
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "**", "*"), recursive=True)):
        # A checkpoint's optimizer state is keyed by the parameters' memory addresses (LibTorch's serialization),
        # which differ from process to process; its weights are model.pt's, and resuming from it is checked by
        # tests/faults/kill_and_rerun.py.
        if os.path.isfile(path) and os.sep + "checkpoints" + os.sep not in path:
            with open(path, "rb") as fh:
                out[os.path.relpath(path, folder)] = without_times(path, fh.read())
    return out


def main():
    detlab, repo, work, data = prepare("determinism")
    failures, rows = [], []
    for name, config, no_model in configs(repo, failures):
        if no_model:
            continue
        runs = []
        for k in ("a", "b"):
            out = os.path.join(work, name[:-5] + "_" + k)
            rc, log, _ = train_briefly(detlab, config, out, data, ("--eval", "--seed", "3"))
            if rc != 0:
                failures.append("%s: train exit %d\n%s" % (name, rc, log[-2000:]))
                break
            runs.append(files_of(out))
        if len(runs) < 2:
            rows.append((name, "train failed", ""))
            continue
        a, b = runs
        differ = sorted(f for f in set(a) | set(b) if a.get(f) != b.get(f))
        if differ:
            failures.append("%s: the two runs differ in %s" % (name, ", ".join(differ)))
        rows.append((name, "%d files" % len(a), "identical" if not differ else "DIFFER: " + ", ".join(differ)))
    return report(("config", "compared", "result"), rows, failures, "%d configs trained twice" % len(rows))


if __name__ == "__main__":
    sys.exit(main())
