#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Outputs that cannot be written lose nothing and say why in one line (exit status 2):
#   full disk   `detlab train` into a tmpfs with room for one checkpoint, not two: the line names the checkpoint
#               and "No space left on device"; no temporary is left; `latest` names the previous checkpoint,
#               which is whole: `--resume` from a copy of the folder in a roomy place ends with the metrics of an
#               uninterrupted run.
#   read-only   `detlab train --out` inside a read-only tmpfs: the line names the folder.
#   foreign     a folder that holds one config's run refuses `detlab train` of another config, naming its
#               config.yaml, and is left as it was.
# Mounting a tmpfs needs root (CI runs as root). Where it is refused the test reports itself skipped
# (DETLAB_SKIPPED, never passed), or fails when DETLAB_REQUIRE_TMPFS=1.
# usage: output_faults.py DETLAB      (ctest: faults_output; run from the repository root)
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

TINY = ["dataset.num_images=32", "dataset.width=128", "dataset.height=128", "dataset.min_size=24",
        "dataset.max_size=56", "detector.train.iterations=10", "detector.train.checkpoint_every=5",
        "detector.train.log_every=5", "detector.train.warmup_iters=2", "detector.input.fixed_size=128",
        "detector.grid_size=4"]


def train_cmd(detlab, out, extra=()):
    cmd = [detlab, "train", "experiments/synthetic/yolo.yaml", "--out", out, "--eval", "--threads", "1", "-q"]
    for s in TINY + list(extra):
        cmd += ["--set", s]
    return cmd


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


def mount_tmpfs(path, options):
    os.makedirs(path, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def unmount(path):
    subprocess.run(["umount", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tree_digest(root):
    """{relative path: sha256} of every file under root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def losses(folder):
    """train_log.csv's rows without the elapsed-time column: the losses a resumed run must repeat exactly."""
    with open(os.path.join(folder, "train_log.csv"), encoding="utf-8") as fh:
        return [line.rsplit(",", 1)[0] for line in fh.read().splitlines()[1:]]


def metrics(folder):
    """The COCO and VOC07 numbers of a run's metrics.json (not its timing)."""
    with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as fh:
        m = json.load(fh)
    return {"coco": m["coco"], "voc07": m["voc07"]}


def check(failures, ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def one_line_error(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    return lines[-1] if lines else "", len([l for l in lines if "error:" in l])


def main():
    detlab = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="detlab_output_faults_")
    mounts, failures = [], []
    try:
        probe = os.path.join(tmp, "probe")
        if not mount_tmpfs(probe, "size=1m"):
            if os.environ.get("DETLAB_REQUIRE_TMPFS") == "1":
                print("FAIL cannot mount a tmpfs (needs root) and DETLAB_REQUIRE_TMPFS=1")
                return 1
            print("DETLAB_SKIPPED: cannot mount a tmpfs here (needs root); the full-disk and read-only cases need one")
            return 0
        mounts.append(probe)

        # The reference: an uninterrupted run in a roomy folder, and the size of one checkpoint.
        ref = os.path.join(tmp, "reference")
        rc, _, err = run(train_cmd(detlab, ref))
        check(failures, rc == 0, "reference run exits 0 (%s)" % err.strip()[-200:])
        ckpt = os.path.join(ref, "checkpoints")
        sizes = [os.path.getsize(os.path.join(ckpt, f)) for f in os.listdir(ckpt) if f.endswith(".pt")]
        one = max(sizes)

        # Full disk: room for the first checkpoint and the logs, not for the second.
        full = os.path.join(tmp, "full")
        check(failures, mount_tmpfs(full, "size=%dk" % ((one * 3 // 2) // 1024 + 64)), "tmpfs of 1.5 checkpoints")
        mounts.append(full)
        out = os.path.join(full, "run")
        rc, _, err = run(train_cmd(detlab, out))
        last, errors = one_line_error(err)
        print("     full disk: exit %d: %s" % (rc, last))
        check(failures, rc == 2, "full disk: exit status 2")
        check(failures, errors == 1 and "No space left on device" in last and "ckpt_" in last,
              "full disk: one error line naming the checkpoint and the reason")
        left = [f for _, _, fs in os.walk(out) for f in fs if ".tmp." in f]
        check(failures, not left, "full disk: no temporary left (%s)" % left)
        with open(os.path.join(out, "checkpoints", "latest"), encoding="utf-8") as fh:
            latest = fh.read().strip()
        check(failures, latest == "ckpt_00000005.pt", "full disk: latest names the previous checkpoint (%s)" % latest)
        check(failures, not os.path.exists(os.path.join(out, "detector.json")), "full disk: no model header")
        moved = os.path.join(tmp, "resumed")
        shutil.copytree(out, moved)
        rc, stdout, err = run(train_cmd(detlab, moved) + ["--resume"])
        check(failures, rc == 0, "resume from the previous checkpoint exits 0 (%s)" % err.strip()[-200:])
        if rc == 0:
            check(failures, losses(moved) == losses(ref) and len(losses(ref)) >= 2,
                  "resumed run's logged losses equal the uninterrupted run's, digit for digit (%d rows)" %
                  len(losses(ref)))
            ours, theirs = metrics(moved), metrics(ref)
            check(failures, ours == theirs and theirs["coco"]["AP50"] >= 0,
                  "resumed run's metrics equal the uninterrupted run's (AP50 %.4f and %.4f)" %
                  (ours["coco"]["AP50"], theirs["coco"]["AP50"]))

        # Read-only folder.
        ro = os.path.join(tmp, "readonly")
        check(failures, mount_tmpfs(ro, "ro,size=1m"), "read-only tmpfs")
        mounts.append(ro)
        rc, _, err = run(train_cmd(detlab, os.path.join(ro, "run")))
        last, errors = one_line_error(err)
        print("     read-only: exit %d: %s" % (rc, last))
        check(failures, rc == 2 and errors == 1 and "Read-only file system" in last and "readonly" in last,
              "read-only: exit 2, one error line naming the folder and the reason")

        # A folder that holds another config's run.
        before = tree_digest(ref)
        rc, _, err = run(train_cmd(detlab, ref, ["detector.grid_size=8"]))
        last, errors = one_line_error(err)
        print("     foreign folder: exit %d: %s" % (rc, last))
        check(failures, rc == 2 and errors == 1 and "config.yaml" in last and "another config" in last,
              "foreign folder: exit 2, one error line naming its config.yaml")
        check(failures, tree_digest(ref) == before, "foreign folder: left as it was")
    finally:
        for m in reversed(mounts):
            unmount(m)
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks failed" % len(failures) if failures else "all output fault checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
