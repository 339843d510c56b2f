#!/usr/bin/env python3
"""Reference PASCAL VOC detection evaluation (the py-faster-rcnn devkit semantics).

A transcription of the algorithm of py-faster-rcnn's lib/datasets/voc_eval.py
(Ross Girshick; functions parse_rec, voc_ap, voc_eval), written independently from
a description of that algorithm, not copied from its source. Same semantics:
  - ground truth read from the raw VOC XML (name, difficult, bndbox as numbers,
    1-based inclusive pixels); npos = number of non-difficult objects of the class;
  - detections of a class read from a text file, lines `image_id score x1 y1 x2 y2`
    (same inclusive convention), ranked with np.argsort(-confidence);
  - IoU with the "+1" areas: w = x2 - x1 + 1, h = y2 - y1 + 1 (also for the intersection);
  - a detection whose best IoU is > ovthresh (strict) is a TP on a not yet matched
    non-difficult object, an FP on an already matched one, and neither TP nor FP when the
    best object is difficult; otherwise (IoU <= ovthresh, or no object of the class) FP;
  - VOC07 11-point AP (t in np.arange(0., 1.1, 0.1)) and VOC12 all-point AP.
Differences, none of which changes a number: no pickle cache (cachedir), the image set
is given as a list (here the annotation file stems), the bndbox is read with float()
(the original uses int(); the fixture's coordinates are all integers).

Usage:
  voc_eval_reference.py --annotations DIR --dets-dir DIR --classes voc.names --iou 0.5 --out r.json
reads DIR/comp4_det_test_<class>.txt for every class (py-faster-rcnn's file names).
Licence: MIT (as the detlab project).
"""
import argparse
import json
import os
import xml.etree.ElementTree as ET

import numpy as np


def parse_rec(filename):
    """Objects of one VOC XML file: list of {name, difficult, bbox}."""
    objects = []
    for obj in ET.parse(filename).findall('object'):
        bndbox = obj.find('bndbox')
        objects.append({
            'name': obj.find('name').text,
            'difficult': int(obj.find('difficult').text),
            'bbox': [float(bndbox.find(k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax')],
        })
    return objects


def voc_ap(rec, prec, use_07_metric=False):
    if use_07_metric:  # VOC2007: 11-point interpolated
        ap = 0.
        for t in np.arange(0., 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.
        return ap
    # VOC2010+: area under the monotone (right-to-left maximum) precision envelope
    mrec = np.concatenate(([0.], rec, [1.]))
    mpre = np.concatenate(([0.], prec, [0.]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


def voc_eval(detpath, recs, imagenames, classname, ovthresh=0.5, use_07_metric=False):
    """recs: {image id: parse_rec(...)}. Returns rec, prec, ap, npos."""
    class_recs = {}
    npos = 0
    for name in imagenames:
        R = [obj for obj in recs[name] if obj['name'] == classname]
        difficult = np.array([x['difficult'] for x in R]).astype(bool)
        class_recs[name] = {'bbox': np.array([x['bbox'] for x in R]),
                            'difficult': difficult,
                            'det': [False] * len(R)}
        npos = npos + int(np.sum(~difficult))

    with open(detpath) as f:
        splitlines = [x.strip().split(' ') for x in f.readlines() if x.strip()]
    image_ids = [x[0] for x in splitlines]
    confidence = np.array([float(x[1]) for x in splitlines])
    BB = np.array([[float(z) for z in x[2:]] for x in splitlines]).reshape(-1, 4)

    sorted_ind = np.argsort(-confidence)
    BB = BB[sorted_ind, :]
    image_ids = [image_ids[x] for x in sorted_ind]

    nd = len(image_ids)
    tp = np.zeros(nd)
    fp = np.zeros(nd)
    for d in range(nd):
        R = class_recs[image_ids[d]]
        bb = BB[d, :].astype(float)
        ovmax = -np.inf
        BBGT = R['bbox'].astype(float)
        if BBGT.size > 0:
            ixmin = np.maximum(BBGT[:, 0], bb[0])
            iymin = np.maximum(BBGT[:, 1], bb[1])
            ixmax = np.minimum(BBGT[:, 2], bb[2])
            iymax = np.minimum(BBGT[:, 3], bb[3])
            iw = np.maximum(ixmax - ixmin + 1., 0.)
            ih = np.maximum(iymax - iymin + 1., 0.)
            inters = iw * ih
            uni = ((bb[2] - bb[0] + 1.) * (bb[3] - bb[1] + 1.) +
                   (BBGT[:, 2] - BBGT[:, 0] + 1.) * (BBGT[:, 3] - BBGT[:, 1] + 1.) - inters)
            overlaps = inters / uni
            ovmax = np.max(overlaps)
            jmax = np.argmax(overlaps)
        if ovmax > ovthresh:
            if not R['difficult'][jmax]:
                if not R['det'][jmax]:
                    tp[d] = 1.
                    R['det'][jmax] = 1
                else:
                    fp[d] = 1.
        else:
            fp[d] = 1.

    fp = np.cumsum(fp)
    tp = np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return rec, prec, voc_ap(rec, prec, use_07_metric), npos


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--annotations', required=True, help='folder of VOC XML files')
    ap.add_argument('--dets-dir', required=True, help='folder of comp4_det_test_<class>.txt')
    ap.add_argument('--classes', required=True, help='class names, one a line')
    ap.add_argument('--iou', type=float, default=0.5)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()

    classes = [c.strip() for c in open(a.classes) if c.strip()]
    imagenames = sorted(f[:-4] for f in os.listdir(a.annotations) if f.endswith('.xml'))
    recs = {n: parse_rec(os.path.join(a.annotations, n + '.xml')) for n in imagenames}

    result = {'iou': a.iou, 'voc07': {'per_class': {}}, 'voc12': {'per_class': {}}, 'npos': {}}
    for cls in classes:
        detpath = os.path.join(a.dets_dir, 'comp4_det_test_%s.txt' % cls)
        for key, use07 in (('voc07', True), ('voc12', False)):
            _, _, cls_ap, npos = voc_eval(detpath, recs, imagenames, cls, a.iou, use07)
            result[key]['per_class'][cls] = float(cls_ap)
        result['npos'][cls] = npos
    # The devkit's AP of a class without positives is nan; average only classes with npos > 0.
    counted = [c for c in classes if result['npos'][c] > 0]
    for key in ('voc07', 'voc12'):
        result[key]['mAP'] = float(np.mean([result[key]['per_class'][c] for c in counted]))
    with open(a.out, 'w') as f:
        json.dump(result, f, indent=1)
        f.write('\n')
    print('IoU %g: VOC07 mAP %.6f, VOC12 mAP %.6f (%d classes with positives)'
          % (a.iou, result['voc07']['mAP'], result['voc12']['mAP'], len(counted)))


if __name__ == '__main__':
    main()
