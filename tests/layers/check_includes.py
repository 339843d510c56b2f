#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# The layer order of src/ (src/README.md), checked over every #include line: a file may include its own layer
# and the layers below it, never one above; nn/ builds with LibTorch alone (no other detlab layer, no OpenCV);
# core/, config/, data/ and eval/ stay free of LibTorch. Known violations are listed, each with its reason, in
# known_violations.txt: a new violation fails, and so does a listed one that no longer occurs (the list only
# shrinks). The CMake targets obey the same order: a library links only libraries of its layer and below
# (detlab_add_library / target_link_libraries in src/**/CMakeLists.txt), so a layer never pulls in one above it
# through a link either. Usage: check_includes.py [SRC_DIR [KNOWN_FILE]]   (ctest runs it as layers_include_order)
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


# The CMake library of each layer (detlab_<folder>, plus the stage libraries built from three folders).
LIBRARY_LAYER = {"detlab_" + folder: folder for folder in RANK}
LIBRARY_LAYER.update({"detlab_classical": "proposals", "detlab_torch_stages": "proposals", "detlab_cli_lib": "cli"})
LINK_CALL = re.compile(r"\b(detlab_add_library|target_link_libraries)\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)")


def link_violations(src):
    found = []
    for dirpath, _, files in os.walk(src):
        if "CMakeLists.txt" not in files:
            continue
        path = os.path.join(dirpath, "CMakeLists.txt")
        rel = os.path.relpath(path, src).replace(os.sep, "/")
        with open(path, encoding="utf-8") as fh:
            text = re.sub(r"#[^\n]*", "", fh.read())
        for call, args in LINK_CALL.findall(text):
            words = args.split()
            if not words:
                continue
            owner = ("detlab_" + words[0]) if call == "detlab_add_library" else words[0]
            layer = LIBRARY_LAYER.get(owner)
            if layer is None:
                continue
            for dep in re.findall(r"\bdetlab_[a-z_]+", " ".join(words[1:])):
                top = LIBRARY_LAYER.get(dep)
                if layer == "nn" and top is not None and top != "nn":
                    found.append("%s: %s -> %s (nn/ builds with LibTorch alone)" % (rel, owner, dep))
                elif top is not None and RANK[top] > RANK[layer]:
                    found.append("%s: %s -> %s (%s/ is above %s/)" % (rel, owner, dep, top, layer))
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
    found = violations(src) + link_violations(src)
    edges = {v.split(" (")[0] for v in found}
    new = [v for v in found if v.split(" (")[0] not in known]
    gone = sorted(k for k in known if k not in edges)
    for v in new:
        print("layer violation: " + v)
    for k in gone:
        print("known_violations.txt lists an include that no longer occurs (remove it): " + k)
    print("%d includes and links against the layer order: %d known (%s), %d new; %d stale entries"
          % (len(found), len(found) - len(new), os.path.basename(known_file), len(new), len(gone)))
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main())
