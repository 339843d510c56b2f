# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# One Markdown page over the classic papers' tables (make papers): per table, each row's AP, AP50, VOC07 mAP and
# ms per image (mean ± sample std over seeds) beside the published number, then the paper's claims with our
# verdicts. Reads only the exported folders, so the page is a function of the committed results. Usage:
#   /usr/bin/python3 papers_summary.py results/papers > results/papers/README.md
#   /usr/bin/python3 papers_summary.py results/papers --links results/papers/ --no-title   (the README's section)
import argparse
import json
import os
import sys


def fmt(metric, digits):
    if metric["mean"] is None:
        return "–"
    s = "%.*f" % (digits, metric["mean"])
    if metric["std"] is not None and len(metric["values"]) > 1:
        s += " ± %.*f" % (digits, metric["std"])
    return s


def table(name, folder, links):
    grid = json.load(open(os.path.join(folder, "ablation.json")))
    results = json.load(open(os.path.join(folder, "results.json")))
    has_paper = any(r.get("paper") is not None for r in results["rows"])
    out = ["### %s" % grid.get("description", name), ""]
    at = links + name
    out.append("`detlab ablate %s` · [table](%s/table.md) · [claims](%s/claims.md)%s · %d seeds" % (
        grid["spec_file"], at, at, " · [errors](%s/errors.md)" % at
        if os.path.exists(os.path.join(folder, "errors.md")) else "", len(grid["seeds"])))
    out.append("")
    head = ["row", "AP", "AP50", "VOC07 mAP", "ms/img"] + (["paper"] if has_paper else [])
    out.append("| " + " | ".join(head) + " |")
    out.append("|---" + "|---:" * (len(head) - 1) + "|")
    for r in results["rows"]:
        m = r["metrics"]
        cells = [", ".join(r["labels"]) or "base", fmt(m["AP"], 3), fmt(m["AP50"], 3), fmt(m["VOC07"], 3),
                 fmt(m["ms_per_image"], 1)]
        if has_paper:
            cells.append("%.3f" % r["paper"] if r.get("paper") is not None else "–")
        out.append("| " + " | ".join(cells) + " |")
    claims = results.get("claims", [])
    if claims:
        out += ["", "| claim (%s) | metric | difference [95 %% CI] | verdict |" % "paper's finding", "|---|---|---|---|"]
        for c in claims:
            if c["diff"] is None:
                diff = c["problem"] or "n/a"
            elif c["ci_lo"] is None:
                diff = "%+.3f" % c["diff"]
            else:
                diff = "%+.3f [%+.3f, %+.3f]" % (c["diff"], c["ci_lo"], c["ci_hi"])
            out.append("| %s (%s) | %s | %s | **%s** |" % (c["claim"], c["source"], c["metric"], diff, c["verdict"]))
    return out


def main():
    parser = argparse.ArgumentParser(description="One Markdown page over the exported paper tables.")
    parser.add_argument("root", nargs="?", default="results/papers")
    parser.add_argument("--links", default="", help="prefix of the links to each table's folder")
    parser.add_argument("--no-title", action="store_true", help="leave out the title and the method paragraph")
    args = parser.parse_args()
    root = args.root
    names = sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "results.json")))
    lines = [] if args.no_title else ["# The classic papers' tables on BCCD", "",
             "Made by `make papers` (each spec under `experiments/papers/`); every row is the mean ± sample std over "
             "its seeds. The paper column is the published number (VOC 2007 or COCO, as the spec's caption says); "
             "ours is BCCD. A claim holds when the paired Student t 95 % interval of the per-seed difference lies "
             "above 0 (above -margin for \">=\" claims), is reversed when it lies below, else inconclusive.", ""]
    for n in names:
        lines += table(n, os.path.join(root, n), args.links) + [""]
    sys.stdout.write("\n".join(lines))


if __name__ == "__main__":
    main()
