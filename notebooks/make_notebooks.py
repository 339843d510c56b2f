# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Writes compare.ipynb, ablation.ipynb and training.ipynb (without outputs) from the cells below, so that the
# notebooks stay reviewable as code. Run after editing:  /usr/bin/python3 notebooks/make_notebooks.py
import os

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = os.path.dirname(os.path.abspath(__file__))

SETUP = """\
import json, os, sys
import matplotlib
import matplotlib.pyplot as plt
import pandas as pd

# The plotting helpers of `detlab plot` (same colours per detector as the PNGs).
sys.path.insert(0, os.path.join(os.getcwd(), "..", "src", "experiment", "plots"))
import detlab_plots as dp
dp.apply_style()
%matplotlib inline
"""


def notebook(cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


COMPARE = [
    new_markdown_cell("""\
# Detector comparison

Reads the output folder of `detlab compare` (default: the committed reference run `results/bccd`; set
`DETLAB_COMPARE_DIR` to read another, e.g. `results/runs/bccd_compare_quick`). Shows the main table, the per-class
table, precision-recall curves per class and speed versus accuracy."""),
    new_code_cell(SETUP + """
RUN = os.environ.get("DETLAB_COMPARE_DIR", os.path.join("..", "results", "bccd"))
summary = dp.load_compare(RUN)
print("comparison", summary["name"], "quick" if summary["quick"] else "", "-", len(summary["entries"]), "entries")
"""),
    new_markdown_cell("## Main table\nCOCO AP / AR, VOC07 mAP, training time, ms per image, parameters (means over seeds)."),
    new_code_cell("""\
table = pd.read_csv(os.path.join(RUN, "table.csv"))
assert len(table) == len(summary["entries"]), "one row per entry"
table.set_index("Detector")"""),
    new_markdown_cell("## Per-class AP"),
    new_code_cell("""\
per_class = pd.read_csv(os.path.join(RUN, "per_class.csv")).set_index("Detector")
per_class"""),
    new_markdown_cell("## Timing by stage (ms per image, mean and p90)"),
    new_code_cell("""\
timing = pd.read_csv(os.path.join(RUN, "timing.csv"))
timing.pivot_table(index="Detector", columns="stage", values="mean ms", sort=False)"""),
    new_markdown_cell("## Precision-recall curves per class\nVOC matching at IoU > 0.5, first seed of each detector."),
    new_code_cell("""\
entries = dp.ok_entries(summary)
classes = summary["class_names"]
assert entries, "no finished entry to plot"
fig, axes = plt.subplots(1, len(classes), figsize=(4.2 * len(classes), 4), sharey=True, squeeze=False)
for k, name in enumerate(classes):
    ax = axes[0][k]
    for e in entries:
        pr = dp.read_pr(RUN, e, name, k)
        if pr is None or not pr[0]:
            continue
        style = dp.detector_style(e["index"])
        ax.plot([0.0] + pr[0], [pr[1][0]] + pr[1], drawstyle="steps-post", color=style["color"],
                linestyle=style["linestyle"], label=e["label"])
    ax.set_title(name); ax.set_xlabel("recall"); ax.set_xlim(0, 1); ax.set_ylim(0, 1.02)
axes[0][0].set_ylabel("precision (interpolated)")
handles, labels = axes[0][0].get_legend_handles_labels()
fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
fig.tight_layout()"""),
    new_markdown_cell("## Speed versus accuracy"),
    new_code_cell("""\
df = dp.entries_frame(summary)
fig, ax = plt.subplots(figsize=(6.5, 4.2))
for _, row in df.iterrows():
    style = dp.detector_style(int(row["index"]))
    ax.errorbar([row["ms_per_image"]], [row["AP"]], yerr=[row.get("AP_std") or 0], marker=style["marker"],
                color=style["color"], markersize=9, linestyle="none", capsize=3, label=row["label"])
ax.set_xscale("log"); ax.set_xlabel("wall ms per test image (log scale)"); ax.set_ylabel("COCO AP@[.5:.95]")
ax.set_ylim(bottom=0); ax.set_title("Speed versus accuracy")
ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
df[["label", "AP", "AP50", "ms_per_image", "ms_per_image_p90", "train_seconds", "num_parameters"]]"""),
]

ABLATION = [
    new_markdown_cell("""\
# Ablation

Reads the output folder of `detlab ablate` (default: the committed reference ablation `results/ablations/nms_iou`;
set `DETLAB_ABLATION_DIR` to read another). Plots each metric against the grid parameter with its 95 %
percentile-bootstrap confidence band over seeds, and the seeds themselves as dots."""),
    new_code_cell(SETUP + """
RUN = os.environ.get("DETLAB_ABLATION_DIR", os.path.join("..", "results", "ablations", "nms_iou"))
results = dp.read_json(os.path.join(RUN, "results.json"))
axes_def = results["axes"]
print("ablation", results["name"], "- axes:", [a["key"] for a in axes_def], "- settings:", len(results["rows"]))
"""),
    new_markdown_cell("## Table (mean ± std [95 % CI])"),
    new_code_cell("""\
rows = []
for r in results["rows"]:
    row = {a["column"]: label for a, label in zip(axes_def, r["labels"])}
    row["seeds"] = len(r["seeds"])
    for key, m in r["metrics"].items():
        row[key] = m["mean"]; row[key + " std"] = m["std"]; row[key + " CI"] = (m["ci_lo"], m["ci_hi"])
    rows.append(row)
frame = pd.DataFrame(rows)
assert len(frame) == len(results["rows"]) and len(frame) > 0
frame"""),
    new_markdown_cell("## Metric versus parameter, with confidence bands"),
    new_code_cell("""\
x_name = axes_def[0]["column"] if axes_def else "setting"
x_labels = axes_def[0]["labels"] if axes_def else ["base"]
numeric = all(dp.is_number(v) for v in x_labels)
metrics = [("AP", "COCO AP@[.5:.95]"), ("AP50", "COCO AP@.5"), ("ms_per_image", "ms per image")]
fig, axs = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.8))
groups = {}
for r in results["rows"]:
    groups.setdefault(tuple(r["labels"][1:]), []).append(r)
for g, (rest, rs) in enumerate(groups.items()):
    style = dp.detector_style(g)
    name = ", ".join(f"{a['column']}={v}" for a, v in zip(axes_def[1:], rest)) or "mean"
    for ax, (key, title) in zip(axs, metrics):
        pts = [(float(r["labels"][0]) if numeric else x_labels.index(r["labels"][0]), r["metrics"][key]) for r in rs
               if r["metrics"][key]["mean"] is not None]
        xs = [p[0] for p in pts]
        mean = [p[1]["mean"] for p in pts]
        lo = [p[1]["ci_lo"] for p in pts]
        hi = [p[1]["ci_hi"] for p in pts]
        ax.fill_between(xs, lo, hi, color=style["color"], alpha=0.2, linewidth=0)
        ax.plot(xs, mean, marker=style["marker"], color=style["color"], label=name)
        for x, p in pts:
            ax.scatter([x] * len(p["values"]), p["values"], color=style["color"], s=10, alpha=0.6)
        ax.set_xlabel(x_name); ax.set_ylabel(title); ax.set_title(title)
        if not numeric:
            ax.set_xticks(range(len(x_labels))); ax.set_xticklabels(x_labels, rotation=20)
if len(groups) > 1:
    axs[-1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
fig.tight_layout()"""),
]

TRAINING = [
    new_markdown_cell("""\
# Training curves

Reads the `train_log.csv` of every entry of a `detlab compare` folder (default `results/bccd`; set
`DETLAB_COMPARE_DIR`). Deep detectors log their losses per window of iterations; the SVM detectors log one row
per hard-negative mining round and class."""),
    new_code_cell(SETUP + """
RUN = os.environ.get("DETLAB_COMPARE_DIR", os.path.join("..", "results", "bccd"))
summary = dp.load_compare(RUN)
logs = {e["label"]: (e, dp.read_train_log(RUN, e)) for e in dp.ok_entries(summary)}
logs = {k: v for k, v in logs.items() if v[1] is not None}
assert logs, "no train_log.csv in " + RUN
{k: list(v[1].columns) for k, v in logs.items()}"""),
    new_markdown_cell("## Loss curves of the deep detectors"),
    new_code_cell("""\
deep = {k: v for k, v in logs.items() if "total_loss" in v[1].columns}
fig, ax = plt.subplots(figsize=(7, 4))
for label, (e, log) in deep.items():
    style = dp.detector_style(e["index"])
    ax.plot(log["iteration"], log["total_loss"], color=style["color"], linestyle=style["linestyle"], label=label)
ax.set_yscale("log"); ax.set_xlabel("iteration"); ax.set_ylabel("total loss (log scale)")
ax.set_title("Training loss" if deep else "Training loss (no deep detector in this comparison)")
if deep:
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
# Per-loss components of each deep detector.
for label, (e, log) in deep.items():
    parts = [c for c in log.columns if c not in ("iteration", "epoch", "total_loss", "lr", "elapsed_s")]
    ax = log.plot(x="iteration", y=parts, logy=True, title=label + ": loss terms", figsize=(7, 3),
                  color=dp.DETECTOR_COLOURS[:len(parts)])
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)"""),
    new_markdown_cell("## Hard-negative mining of the SVM detectors"),
    new_code_cell("""\
svm = {k: v for k, v in logs.items() if "negative_errors" in v[1].columns}
for label, (e, log) in svm.items():
    per_round = log.groupby("round")[["positives", "negatives", "positive_errors", "negative_errors"]].sum()
    per_round["error rate"] = (per_round.positive_errors + per_round.negative_errors) / (per_round.positives + per_round.negatives)
    print(label)
    display(per_round)"""),
]


def main():
    for name, cells in (("compare", COMPARE), ("ablation", ABLATION), ("training", TRAINING)):
        path = os.path.join(HERE, name + ".ipynb")
        nbformat.write(notebook(cells), path)
        print("wrote", path)


if __name__ == "__main__":
    main()
