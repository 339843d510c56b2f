#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Peer for bench_coco_read: what pycocotools' COCO(annotation_file) does before any evaluation -- json.load of
# the file and COCO.createIndex (anns, imgs, cats by id; imgToAnns, catToImgs) -- written out here because
# pycocotools is not in Debian. One process per measurement; prints
#   ok <seconds> <peak resident KiB> <images> <annotations>
# usage: bench_coco_read_peer.py FILE.json
import json
import resource
import sys
import time
from collections import defaultdict


def main():
    t0 = time.perf_counter()
    with open(sys.argv[1], "r") as f:
        dataset = json.load(f)
    # COCO.createIndex, as pycocotools 2.0 writes it.
    anns, cats, imgs = {}, {}, {}
    img_to_anns, cat_to_imgs = defaultdict(list), defaultdict(list)
    if "annotations" in dataset:
        for ann in dataset["annotations"]:
            img_to_anns[ann["image_id"]].append(ann)
            anns[ann["id"]] = ann
    if "images" in dataset:
        for img in dataset["images"]:
            imgs[img["id"]] = img
    if "categories" in dataset:
        for cat in dataset["categories"]:
            cats[cat["id"]] = cat
    if "annotations" in dataset and "categories" in dataset:
        for ann in dataset["annotations"]:
            cat_to_imgs[ann["category_id"]].append(ann["image_id"])
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("ok %.4f %d %d %d" % (seconds, peak, len(imgs), len(anns)))


if __name__ == "__main__":
    main()
