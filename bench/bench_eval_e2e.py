#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `detlab eval --gt --dt` end to end at val2017 scale: 5,000 images, 36,781 ground-truth boxes with COCO's size
# mix and ~1 % crowd regions (bench/coco_synth.py), 100 detections per image (500,000, a ~45 MB results file),
# files read, matched, accumulated and summarised. Each run is its own process: wall time and peak resident
# memory (wait4). The COCO protocol alone and all three protocols (COCO, VOC07, VOC12), --threads 1 and all
# cores, alternating for --rounds rounds; medians. No peer: pycocotools is not in Debian (bench_coco_eval
# times COCOeval against it where it is installed).
# usage: bench_eval_e2e.py [--detlab build/src/cli/detlab] [--dir /tmp/detlab_val2017_synth] [--rounds 3]
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t0
    if status != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr.read().decode()))
    return seconds, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--detlab", default=os.path.join(HERE, "..", "build", "src", "cli", "detlab"))
    ap.add_argument("--dir", default="/tmp/detlab_val2017_synth")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    gt, dt = os.path.join(a.dir, "instances_val.json"), os.path.join(a.dir, "results.json")
    if not (os.path.exists(gt) and os.path.exists(dt)):
        subprocess.check_call([sys.executable, os.path.join(HERE, "coco_synth.py"), gt, "--images", "5000",
                               "--annotations", "36781", "--results", dt, "--dets-per-image", "100"])
    cases = [("coco", "1"), ("coco", "0"), ("all", "1"), ("all", "0")]
    times = {c: [] for c in cases}
    peaks = {c: [] for c in cases}
    for _ in range(a.rounds):
        for protocol, threads in cases:
            s, m = run([a.detlab, "eval", "--gt", gt, "--dt", dt, "--protocol", protocol, "--threads", threads, "-q"])
            times[(protocol, threads)].append(s)
            peaks[(protocol, threads)].append(m)
    mib = lambda p: os.path.getsize(p) / 2**20
    print("detlab eval --gt (%.0f MiB, 5,000 images) --dt (%.0f MiB, 500,000 detections); %d rounds, medians; "
          "%d hardware threads" % (mib(gt), mib(dt), a.rounds, os.cpu_count()))
    print("%-10s %-8s %10s %10s" % ("protocol", "threads", "seconds", "peak MiB"))
    for protocol, threads in cases:
        print("%-10s %-8s %10.2f %10.0f" % (protocol, threads if threads != "0" else "all",
                                            statistics.median(times[(protocol, threads)]),
                                            statistics.median(peaks[(protocol, threads)])))


if __name__ == "__main__":
    main()
