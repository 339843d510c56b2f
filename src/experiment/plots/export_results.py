# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Copies the light part of a compare or ablate results folder (tables, summaries, manifests, plots, samples,
# per-run metrics / logs / PR curves / provenance; no model weights, checkpoints or full detection lists) into a folder
# meant to be committed, e.g. results/bccd/. Everything the plots and the notebooks read is kept, so
# `detlab plot DST` and the notebooks work on the copy. Usage (make reference runs it):
#   /usr/bin/python3 export_results.py SRC DST
import argparse
import fnmatch
import os
import shutil
import sys

# Relative paths (glob patterns, '/'-separated) that are copied; everything else is left out.
KEEP = [
    "*.md", "*.csv", "*.tex", "summary.json", "manifest.json", "ablation.json", "results.json",
    "plots/*", "samples/*", "proposals/*", "shards/*",
    # compare entries and ablation points: the run's record, metrics, logs and curves.
    "entries/*/seed_*/run.json", "entries/*/seed_*/metrics.json", "entries/*/seed_*/train.json",
    "entries/*/seed_*/class_ap.*", "entries/*/seed_*/train_log.csv", "entries/*/seed_*/config.yaml",
    "entries/*/seed_*/pr/*.csv", "entries/*/seed_*/manifest.json",
    "points/*/run.json", "points/*/metrics.json", "points/*/class_ap.*", "points/*/config.yaml",
    "points/*/error.json", "points/*/manifest.json",
]


def kept(rel):
    parts = rel.split("/")
    for pattern in KEEP:
        p = pattern.split("/")
        if len(p) == len(parts) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, p)):
            return True
    return False


def main():
    parser = argparse.ArgumentParser(description="Copy the committable part of a detlab results folder.")
    parser.add_argument("src")
    parser.add_argument("dst")
    args = parser.parse_args()
    if not (os.path.exists(os.path.join(args.src, "summary.json")) or
            os.path.exists(os.path.join(args.src, "ablation.json"))):
        sys.exit("%s: not a detlab compare / ablate results folder" % args.src)
    tmp = args.dst.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    count = size = 0
    for root, _, files in os.walk(args.src):
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, args.src).replace(os.sep, "/")
            if not kept(rel):
                continue
            out = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            shutil.copy2(path, out)
            count += 1
            size += os.path.getsize(path)
    shutil.rmtree(args.dst, ignore_errors=True)
    os.replace(tmp, args.dst)  # the old copy is replaced only once the new one is complete
    print("copied %d files (%.1f MB) to %s" % (count, size / 1e6, args.dst))


if __name__ == "__main__":
    main()
