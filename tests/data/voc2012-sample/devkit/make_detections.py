#!/usr/bin/env python3
"""Deterministic synthetic detections for the 100-image VOC2012 sample (seed 2012).

Writes, next to this script:
  detections.json            COCO results format, bbox = [x1, y1, x2 - x1, y2 - y1] in detlab's
                             continuous coordinates (a VOC XML box is (xmin - 1, ymin - 1, xmax, ymax));
  detections_inclusive.json  the same, in the XML's inclusive numbering:
                             [x1 + 1, y1 + 1, x2 - (x1 + 1), y2 - (y1 + 1)];
  dets_devkit/comp4_det_test_<class>.txt
                             py-faster-rcnn's results files: `<stem> <score> <x1+1> <y1+1> <x2> <y2>`.
Every coordinate is a multiple of 0.25, every box lies inside its image with a side >= 2
(so the inclusive width is >= 1), scores are distinct k / 2**20 (exact in float32), and no
detection has an IoU within 1e-6 of a threshold 0.50, 0.55, ..., 0.95 with a ground-truth box
of its class, nor two best ground-truth boxes tied. Licence: MIT (as the detlab project).
"""
import glob
import json
import os
import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np

SEED = 2012
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.dirname(HERE)
rng = np.random.RandomState(SEED)


def load_images():
    images = []
    for path in sorted(glob.glob(os.path.join(SAMPLE, 'Annotations', '*.xml'))):
        root = ET.parse(path).getroot()
        W, H = int(root.find('size/width').text), int(root.find('size/height').text)
        objs = []
        for o in root.findall('object'):
            b = [float(o.find('bndbox/' + k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
            objs.append((o.find('name').text, int(o.find('difficult').text),
                         (b[0] - 1, b[1] - 1, b[2], b[3])))
        images.append((os.path.basename(path)[:-4], W, H, objs))
    return images


def iou(a, b, plus=0.0):
    """Continuous IoU; plus=1 gives the devkit formula applied to the same numbers."""
    iw = max(min(a[2], b[2]) - max(a[0], b[0]) + plus, 0.0)
    ih = max(min(a[3], b[3]) - max(a[1], b[1]) + plus, 0.0)
    inter = iw * ih
    area = lambda r: (r[2] - r[0] + plus) * (r[3] - r[1] + plus)
    return inter / (area(a) + area(b) - inter)


def make_box(x1, y1, x2, y2, W, H, min_size=2.0):
    """Snap to the 0.25 grid, keep a side >= min_size, move inside the image."""
    snap = lambda v: float(np.round(v * 4.0) / 4.0)
    x1, y1, x2, y2 = snap(x1), snap(y1), snap(x2), snap(y2)
    w = min(max(x2 - x1, min_size), float(W))
    h = min(max(y2 - y1, min_size), float(H))
    x1 = min(max(x1, 0.0), W - w)
    y1 = min(max(y1, 0.0), H - h)
    return (x1, y1, x1 + w, y1 + h)


def jitter_to(g, target, W, H, tries=400):
    """The jittered copy of g (out of `tries`) whose IoU with g is closest to target."""
    gw, gh = g[2] - g[0], g[3] - g[1]
    best, bestd = None, np.inf
    for _ in range(tries):
        s = rng.uniform(0.0, 0.45)
        cx = (g[0] + g[2]) / 2 + rng.normal(0, s) * gw
        cy = (g[1] + g[3]) / 2 + rng.normal(0, s) * gh
        w, h = gw * np.exp(rng.normal(0, s)), gh * np.exp(rng.normal(0, s))
        b = make_box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, W, H)
        d = abs(iou(b, g) - target)
        if d < bestd:
            best, bestd = b, d
    return best


def random_box(W, H, lo, hi):
    """A box of sides log-uniform in [lo, hi] px at a uniform position."""
    w, h = np.exp(rng.uniform(np.log(lo), np.log(hi), 2))
    x, y = rng.uniform(0, W - w), rng.uniform(0, H - h)
    return make_box(x, y, x + w, y + h, W, H)


def exact_ious(box, gts):
    F = [Fraction(v) for v in box]
    out = []
    for g in gts:
        G = [Fraction(v) for v in g]
        iw = max(min(F[2], G[2]) - max(F[0], G[0]), 0)
        ih = max(min(F[3], G[3]) - max(F[1], G[1]), 0)
        inter = iw * ih
        out.append(inter / ((F[2] - F[0]) * (F[3] - F[1]) + (G[2] - G[0]) * (G[3] - G[1]) - inter))
    return out


def ambiguous(box, gts):
    """True if an IoU is within 1e-6 of a threshold or the best two gt boxes tie."""
    ious = sorted(exact_ious(box, gts), reverse=True)
    eps = Fraction(1, 10**6)
    if any(abs(v - Fraction(t, 100)) < eps for v in ious for t in range(50, 100, 5)):
        return True
    return len(ious) > 1 and ious[0] > 0 and ious[0] - ious[1] < eps


def main():
    classes = [c.strip() for c in open(os.path.join(SAMPLE, 'voc.names')) if c.strip()]
    coco = json.load(open(os.path.join(SAMPLE, 'coco', 'coco_format_v1', 'instances_default.json')))
    image_id = {im['file_name'].rsplit('.', 1)[0]: im['id'] for im in coco['images']}
    cat_id = {c['name']: c['id'] for c in coco['categories']}
    images = load_images()

    dets = []  # (stem, class, box, raw score, kind)
    for stem, W, H, objs in images:
        for name, difficult, g in objs:
            small = min(g[2] - g[0], g[3] - g[1]) <= 40
            if rng.uniform() < 0.1:  # missed object
                continue
            n = rng.choice([2, 3]) if small else rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2])
            first = None
            for _ in range(n):
                u = rng.uniform()
                if u < (0.5 if small else 0.35):
                    target = rng.uniform(0.482, 0.518)
                elif u < (0.6 if small else 0.45):
                    target = rng.uniform(0.685, 0.715)
                else:
                    target = rng.uniform(0.3, 0.95)
                b = jitter_to(g, target, W, H)
                raw = 0.7 * iou(b, g) + rng.uniform(0, 0.5)
                first = raw if first is None else first
                dets.append((stem, name, b, raw, 'jitter'))
            if rng.uniform() < 0.15:  # close duplicate, scored below the first copy
                b = jitter_to(g, rng.uniform(0.75, 0.95), W, H)
                dets.append((stem, name, b, first - rng.uniform(0.01, 0.3), 'duplicate'))
            if rng.uniform() < 0.25:  # right place, wrong class
                other = classes[(classes.index(name) + rng.randint(1, len(classes))) % len(classes)]
                b = jitter_to(g, rng.uniform(0.5, 0.95), W, H)
                dets.append((stem, other, b, rng.uniform(0.1, 0.8), 'wrong_class'))
            if rng.uniform() < 0.2:  # a 4-20 px part of the object (the whole of a small one)
                s = np.exp(rng.uniform(np.log(4), np.log(20), 2))
                w, h = min(s[0], g[2] - g[0]), min(s[1], g[3] - g[1])
                x = rng.uniform(g[0], g[2] - w)
                y = rng.uniform(g[1], g[3] - h)
                b = make_box(x, y, x + w, y + h, W, H)
                dets.append((stem, name, b, rng.uniform(0, 0.6), 'part'))
        present = sorted({o[0] for o in objs})
        for _ in range(rng.poisson(3)):  # background false positives
            cls = present[rng.randint(len(present))] if rng.uniform() < 0.5 else \
                classes[rng.randint(len(classes))]
            if rng.uniform() < 0.4:
                b = random_box(W, H, 4, 20)
            else:
                b = random_box(W, H, 20, min(W, H) / 2)
            dets.append((stem, cls, b, rng.uniform(0, 0.7), 'background'))

    gts = {stem: objs for stem, _, _, objs in images}
    same = lambda d: [g for n, _, g in gts[d[0]] if n == d[1]]
    kept = [d for d in dets if not ambiguous(d[2], same(d))]
    dropped = len(dets) - len(kept)
    dets = kept

    # Distinct scores k / 2**20, ranked as the raw scores.
    ks = np.sort(rng.choice(2**20 - 1, len(dets), replace=False) + 1)[::-1]
    order = np.argsort(-np.array([d[3] for d in dets]), kind='stable')
    score = [0.0] * len(dets)
    for rank, i in enumerate(order):
        score[i] = float(ks[rank]) / 2**20

    cont, incl = [], []
    lines = {c: [] for c in classes}
    for (stem, cls, (x1, y1, x2, y2), _, _), s in zip(dets, score):
        base = {'image_id': image_id[stem], 'category_id': cat_id[cls]}
        cont.append(dict(base, bbox=[x1, y1, x2 - x1, y2 - y1], score=s))
        incl.append(dict(base, bbox=[x1 + 1, y1 + 1, x2 - (x1 + 1), y2 - (y1 + 1)], score=s))
        lines[cls].append('%s %r %r %r %r %r' % (stem, s, x1 + 1, y1 + 1, x2, y2))

    def dump(path, items):
        with open(os.path.join(HERE, path), 'w') as f:
            f.write('[\n' + ',\n'.join(json.dumps(d, separators=(',', ':')) for d in items) + '\n]\n')
    dump('detections.json', cont)
    dump('detections_inclusive.json', incl)
    os.makedirs(os.path.join(HERE, 'dets_devkit'), exist_ok=True)
    for cls in classes:
        with open(os.path.join(HERE, 'dets_devkit', 'comp4_det_test_%s.txt' % cls), 'w') as f:
            f.write(''.join(l + '\n' for l in lines[cls]))

    # Summary.
    print('seed %d: %d detections (%d dropped as ambiguous at a threshold)' % (SEED, len(dets), dropped))
    for kind in ('jitter', 'duplicate', 'wrong_class', 'part', 'background'):
        print('  %-12s %d' % (kind, sum(d[4] == kind for d in dets)))
    print('  per class: ' + ', '.join('%s %d' % (c, len(lines[c])) for c in classes))
    print('  small (shorter side <= 20 px): %d'
          % sum(min(d[2][2] - d[2][0], d[2][3] - d[2][1]) <= 20 for d in dets))
    best = [max([iou(d[2], g) for g in same(d)], default=0.0) for d in dets]
    wrong = [max([iou(d[2], g, plus=1.0) for g in same(d)], default=0.0) for d in dets]
    for t in (0.5, 0.7):
        near = sum(abs(b - t) <= 0.02 for b in best)
        flips = sum((b > t) != (w > t) for b, w in zip(best, wrong))
        print('  best IoU within 0.02 of %.1f: %d; verdicts (IoU > %.1f) changed by a wrong +1: %d'
              % (t, near, t, flips))


if __name__ == '__main__':
    main()
