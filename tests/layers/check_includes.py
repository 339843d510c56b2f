#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# The layer order of src/ (src/README.md), checked over every #include line: a file may include its own layer
# and the layers below it, never one above; nn/ builds with LibTorch alone (no other detlab layer, no OpenCV);
# core/, config/, data/ and eval/ stay free of LibTorch. Known violations are listed, each with its reason, in
# known_violations.txt: a new violation fails, and so does a listed one that no longer occurs (the list only
# shrinks). Usage: check_includes.py [SRC_DIR [KNOWN_FILE]]   (ctest runs it as layers_include_order)
import os
import re
import sys

# Bottom to top; folders on one rank may include each other.
LAYERS = [["core"], ["config"], ["data"], ["eval"], ["nn"], ["tensor"], ["pipeline"],
          ["proposals", "features", "classifiers"],
          ["viz"], ["train"], ["detectors"], ["experiment"], ["cli"]]
RANK = {folder: i for i, group in enumerate(LAYERS) for folder in group}
TORCH_FREE = {"core", "config", "data", "eval"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')


def violations(src):
    found = []
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith((".h", ".cpp")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            layer = rel.split("/")[0]
            if layer not in RANK:
                continue
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    top = target.split("/")[0]
                    if layer == "nn" and top in RANK and top != "nn":
                        found.append("%s -> %s (nn/ builds with LibTorch alone)" % (rel, target))
                    elif layer == "nn" and top == "opencv2":
                        found.append("%s -> %s (nn/ has no OpenCV)" % (rel, target))
                    elif layer in TORCH_FREE and top in ("torch", "ATen", "c10"):
                        found.append("%s -> %s (%s/ is torch-free)" % (rel, target, layer))
                    elif top in RANK and RANK[top] > RANK[layer]:
                        found.append("%s -> %s (%s/ is above %s/)" % (rel, target, top, layer))
    return found


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "src")
    known_file = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "known_violations.txt")
    known = {}
    with open(known_file, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                include, _, reason = line.partition("  # ")
                known[include.strip()] = reason
    found = violations(src)
    edges = {v.split(" (")[0] for v in found}
    new = [v for v in found if v.split(" (")[0] not in known]
    gone = sorted(k for k in known if k not in edges)
    for v in new:
        print("layer violation: " + v)
    for k in gone:
        print("known_violations.txt lists an include that no longer occurs (remove it): " + k)
    print("%d includes against the layer order: %d known (%s), %d new; %d stale entries"
          % (len(found), len(found) - len(new), os.path.basename(known_file), len(new), len(gone)))
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main())
