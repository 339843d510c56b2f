#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A COCO instances file of train2017's size and shape, without images: 118,287 images, 860,001 annotations over
# 80 categories (COCO's ids 1..90 with its gaps), polygons on every non-crowd object and uncompressed RLE on
# the ~1 % crowd regions (both present, as in the real file, and ignored by detection readers), boxes drawn to
# COCO's size mix (41 % small < 32^2, 34 % medium, 25 % large), image sizes from COCO's common ones. ~450 MB,
# like instances_train2017.json (448 MB). Written as a stream, so the generator itself stays small.
# With --results, also a COCO results file for it: --dets-per-image detections per image, most ground-truth
# boxes found again (jittered, usually the right class, scores higher), the rest false positives.
# val2017's size: --images 5000 --annotations 36781.
# usage: coco_synth.py OUT.json [--images N] [--annotations M] [--seed S] [--results DETS.json --dets-per-image D]
import argparse
import json
import math
import random

COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]  # 80 ids
SIZES = [(640, 480), (640, 427), (480, 640), (640, 426), (427, 640), (500, 375), (640, 512), (612, 612)]


def box(rng, w, h):
    kind = rng.random()
    if kind < 0.41:
        area = rng.uniform(4, 32 * 32)
    elif kind < 0.75:
        area = rng.uniform(32 * 32, 96 * 96)
    else:
        area = rng.uniform(96 * 96, min(w * h * 0.9, 400 * 400))
    aspect = math.exp(rng.uniform(-1.0, 1.0))
    bw = min(w - 1.0, math.sqrt(area * aspect))
    bh = min(h - 1.0, area / bw)
    x = rng.uniform(0, w - bw)
    y = rng.uniform(0, h - bh)
    return round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)


def polygon(rng, x, y, bw, bh):
    n = rng.randint(6, 40)  # COCO polygons: a few to dozens of vertices
    cx, cy = x + bw / 2, y + bh / 2
    pts = []
    for k in range(n):
        a = 2 * math.pi * k / n
        pts.append(round(cx + bw / 2 * math.cos(a) * rng.uniform(0.7, 1.0), 2))
        pts.append(round(cy + bh / 2 * math.sin(a) * rng.uniform(0.7, 1.0), 2))
    return [pts]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--images", type=int, default=118287)
    ap.add_argument("--annotations", type=int, default=860001)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--results")
    ap.add_argument("--dets-per-image", type=int, default=100)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    sizes = [SIZES[rng.randrange(len(SIZES))] for _ in range(a.images)]
    with open(a.out, "w") as f:
        f.write('{"info": {"description": "synthetic train2017-size COCO", "version": "1.0", "year": 2017},\n')
        f.write('"licenses": [{"url": "http://creativecommons.org/licenses/by-nc-sa/2.0/", "id": 1, '
                '"name": "Attribution-NonCommercial-ShareAlike License"}],\n"images": [')
        for i, (w, h) in enumerate(sizes):
            f.write(("," if i else "") + json.dumps({
                "license": 1, "file_name": "%012d.jpg" % (i + 1), "coco_url": "http://images.cocodataset.org/"
                "train2017/%012d.jpg" % (i + 1), "height": h, "width": w, "date_captured": "2013-11-14 11:18:45",
                "flickr_url": "http://farm4.staticflickr.com/x.jpg", "id": i + 1}) + "\n")
        f.write('],\n"annotations": [')
        boxes_of = [[] for _ in range(a.images)]
        for k in range(a.annotations):
            img = rng.randrange(a.images)
            w, h = sizes[img]
            x, y, bw, bh = box(rng, w, h)
            cat = COCO_IDS[rng.randrange(80)]
            boxes_of[img].append((x, y, bw, bh, cat))
            crowd = 1 if rng.random() < 0.009 else 0
            if crowd:
                seg = {"counts": [rng.randint(1, 500) for _ in range(rng.randint(20, 120))], "size": [h, w]}
            else:
                seg = polygon(rng, x, y, bw, bh)
            f.write(("," if k else "") + json.dumps({
                "segmentation": seg, "area": round(bw * bh * 0.8, 4), "iscrowd": crowd, "image_id": img + 1,
                "bbox": [x, y, bw, bh], "category_id": cat, "id": k + 1}) + "\n")
        f.write('],\n"categories": [')
        f.write(",".join(json.dumps({"supercategory": "thing", "id": c, "name": "class%d" % c}) for c in COCO_IDS))
        f.write("]}\n")
    if a.results:
        write_results(a.results, sizes, boxes_of, a.dets_per_image, rng)


def write_results(path, sizes, boxes_of, per_image, rng):
    with open(path, "w") as f:
        f.write("[")
        first = True
        for img, (w, h) in enumerate(sizes):
            dets = []
            for (x, y, bw, bh, cat) in boxes_of[img]:
                if rng.random() < 0.8 and len(dets) < per_image:
                    j = 0.1
                    dx, dy = rng.gauss(0, j) * bw, rng.gauss(0, j) * bh
                    sw, sh = math.exp(rng.gauss(0, j)), math.exp(rng.gauss(0, j))
                    c = cat if rng.random() < 0.9 else COCO_IDS[rng.randrange(80)]
                    dets.append((x + dx, y + dy, bw * sw, bh * sh, c, rng.uniform(0.3, 1.0)))
            while len(dets) < per_image:
                x, y, bw, bh = box(rng, w, h)
                dets.append((x, y, bw, bh, COCO_IDS[rng.randrange(80)], rng.uniform(0.0, 0.6)))
            for (x, y, bw, bh, c, score) in dets:
                f.write(("," if not first else "") + '{"image_id": %d, "category_id": %d, "bbox": [%.2f, %.2f, '
                        '%.2f, %.2f], "score": %.5f}\n' % (img + 1, c, x, y, bw, bh, score))
                first = False
        f.write("]\n")


if __name__ == "__main__":
    main()
