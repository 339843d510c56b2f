#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Peer for bench_coco_eval: pycocotools' COCOeval (bbox) evaluate() and accumulate() timed on the same files.
# usage: bench_coco_eval_peer.py GT.json DETS.json     (exit code 3 when pycocotools cannot be imported)
import sys
import time

try:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
except ImportError:
    sys.exit(3)

import contextlib
import io


def main():
    gt_file, dt_file = sys.argv[1], sys.argv[2]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_file)
        dt = gt.loadRes(dt_file)
        ev = COCOeval(gt, dt, "bbox")
        t0 = time.perf_counter()
        ev.evaluate()
        t1 = time.perf_counter()
        ev.accumulate()
        t2 = time.perf_counter()
        ev.summarize()
    # One machine-readable line for bench_coco_eval: "peer <evaluate s> <accumulate s> <12 stats>".
    print("peer %.6f %.6f %s" % (t1 - t0, t2 - t1, " ".join("%.17g" % v for v in ev.stats)))


if __name__ == "__main__":
    main()
