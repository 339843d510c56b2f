# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Checks exported results against the code that made them: every run's inputs (run.json) list the source files
# its components reach with a hash of each (the first 16 hex digits of SHA-256, as code_fingerprint.cmake
# writes them); this script hashes the same files as a git commit has them and reports any that differ. By
# default each run is checked against the commit its manifest names; --commit C checks every run against C (for
# results whose commit is not in this repository's history, e.g. recreated under another id). Usage:
#   /usr/bin/python3 verify_provenance.py results/papers                 (each run against its own commit)
#   /usr/bin/python3 verify_provenance.py results/papers --commit 7a27771
# Exit status 0 when every file of every run matches, 1 otherwise, 2 on unreadable input.
import argparse
import hashlib
import json
import os
import subprocess
import sys


def git_hash(repo, commit, path, cache):
    key = (commit, path)
    if key not in cache:
        try:
            data = subprocess.check_output(["git", "-C", repo, "show", "%s:src/%s" % (commit, path)],
                                           stderr=subprocess.DEVNULL)
            cache[key] = hashlib.sha256(data).hexdigest()[:16]
        except subprocess.CalledProcessError:
            cache[key] = None  # no such commit, or no such file in it
    return cache[key]


def commit_exists(repo, commit):
    return subprocess.call(["git", "-C", repo, "cat-file", "-e", commit + "^{commit}"],
                           stderr=subprocess.DEVNULL) == 0


def runs(root):
    """(folder, phase, files, commit) for every phase of every exported run under root."""
    for folder, _, names in sorted(os.walk(root)):
        if "run.json" not in names or "manifest.json" not in names:
            continue
        with open(os.path.join(folder, "run.json"), encoding="utf-8") as fh:
            run = json.load(fh)
        with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
        for phase, inputs in sorted(run.get("inputs", {}).items()):
            files = inputs.get("code", {}).get("files")
            if files:
                yield folder, phase, files, manifest.get(phase, {}).get("commit")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results", help="an exported results folder (results/papers, results/bccd, ...)")
    ap.add_argument("--commit", help="check every run against this commit instead of the one it names")
    ap.add_argument("--repo", default=".", help="the git repository (default: .)")
    args = ap.parse_args()
    if not os.path.isdir(args.results):
        print("verify_provenance: %s: not a folder" % args.results, file=sys.stderr)
        return 2
    cache, checked, files_checked, problems = {}, 0, 0, []
    commits = set()
    try:
        for folder, phase, files, named in runs(args.results):
            commit = args.commit or named
            checked += 1
            where = "%s (%s)" % (os.path.relpath(folder, args.results), phase)
            if not commit or not commit_exists(args.repo, commit):
                problems.append("%s: commit %s is not in this repository" % (where, commit))
                continue
            commits.add(commit)
            for path, expected in sorted(files.items()):
                files_checked += 1
                actual = git_hash(args.repo, commit, path, cache)
                if actual != expected:
                    problems.append("%s: src/%s is %s at %s, the run saw %s" %
                                    (where, path, actual or "absent", commit[:10], expected))
    except (OSError, ValueError) as e:
        print("verify_provenance: %s" % e, file=sys.stderr)
        return 2
    for p in problems[:20]:
        print(p)
    if len(problems) > 20:
        print("... and %d more" % (len(problems) - 20))
    print("%d runs, %d file hashes checked against %s: %d mismatches" %
          (checked, files_checked, ", ".join(sorted(c[:10] for c in commits)) or "no commit", len(problems)))
    return 0 if checked and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
