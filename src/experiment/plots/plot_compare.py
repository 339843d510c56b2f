# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Plots of a `detlab compare` folder: PR curves per class, speed vs accuracy, training loss, proposal recall vs
# number of proposals, and a grid of test images with each detector's boxes. Usage:
#   /usr/bin/python3 plot_compare.py RUN_DIR [--quiet]      (detlab plot RUN_DIR runs it)
import argparse
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detlab_plots as dp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402


def legend_outside(fig, handles, labels, ncol=1):
    """A figure legend to the right of the axes, never over data."""
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, ncol=ncol)


def pr_curves(run_dir, summary, out, quiet):
    entries = dp.ok_entries(summary)
    classes = summary["class_names"]
    if not entries or not classes:
        return None
    n = len(classes)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4.0), sharey=True, squeeze=False)
    handles = {}
    for k, name in enumerate(classes):
        ax = axes[0][k]
        for e in entries:
            pr = dp.read_pr(run_dir, e, name, k)
            if pr is None or not pr[0]:
                continue
            style = dp.detector_style(e["index"])
            # The interpolated precision of rank i holds on (recall[i-1], recall[i]]: a step drawn before the point.
            xs, ys = [0.0] + pr[0], [pr[1][0]] + pr[1]
            (line,) = ax.plot(xs, ys, color=style["color"], linestyle=style["linestyle"], linewidth=1.8,
                              drawstyle="steps-pre", marker=style["marker"], markersize=5,
                              markevery=0.12)  # markers evenly spaced along the drawn line tell curves apart
            handles[e["label"]] = line
        ax.set_title(name)
        ax.set_xlabel("recall")
        ax.set_xlim(0, 1.0)
        ax.set_ylim(0, 1.02)
        if k == 0:
            ax.set_ylabel("precision (interpolated)")
    fig.suptitle("Precision-recall per class on the test split (VOC matching, IoU > 0.5; first seed)", y=1.02)
    labels = [e["label"] for e in entries if e["label"] in handles]
    legend_outside(fig, [handles[l] for l in labels], labels)
    fig.tight_layout()
    return dp.save(fig, out, "pr_curves", quiet)


def label_points(ax, points):
    """Names next to scatter points, each put on the first side (right, below-right, left, below-left) where it
    keeps clear of the labels placed before it (display coordinates; no extra library)."""
    placed = []
    candidates = [((7, 4), "left"), ((7, -12), "left"), ((-7, 4), "right"), ((-7, -12), "right")]
    for x, y, text in sorted(points, key=lambda p: -p[1]):
        px, py = ax.transData.transform((x, y))
        width = 5.5 * len(text)  # ~ pixels of 8-pt text per character at the figure's dpi
        for (dx, dy), ha in candidates:
            x0 = px + dx if ha == "left" else px + dx - width
            box = (x0, py + dy, x0 + width, py + dy + 11)
            if all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in placed):
                break
        placed.append(box)
        ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, fontsize=8, color="#222222")


def speed_accuracy(run_dir, summary, out, quiet):
    entries = [e for e in dp.ok_entries(summary) if e["metrics"].get("ms_per_image") and e["metrics"].get("AP") is not None]
    if not entries:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for ax, metric, name in ((axes[0], "AP", "COCO AP@[.5:.95]"), (axes[1], "AP50", "COCO AP@.5")):
        for e in entries:
            style = dp.detector_style(e["index"])
            x, y = e["metrics"]["ms_per_image"], e["metrics"][metric]
            yerr = e["std"].get(metric)
            ax.errorbar([x], [y], yerr=[yerr] if yerr is not None else None, marker=style["marker"],
                        color=style["color"], markersize=9, linestyle="none", capsize=3, label=e["label"])
        ax.set_xscale("log")
        xs = [e["metrics"]["ms_per_image"] for e in entries]
        ys = [e["metrics"][metric] or 0.0 for e in entries]
        # Margins in both directions so that markers at AP 0 or at the extremes stay whole, labels inside.
        ax.set_xlim(min(xs) / 1.6, max(xs) * 2.5)
        ax.set_ylim(-0.03, min(1.0, max(ys) * 1.15 + 0.05))
        label_points(ax, [(x, y, e["label"]) for x, y, e in zip(xs, ys, entries)])
        ax.set_xlabel("wall ms per test image (mean, log scale)")
        ax.set_ylabel(name)
        ax.set_title(name + " vs inference time")
    handles = [Line2D([], [], marker=dp.detector_style(e["index"])["marker"], color=dp.detector_style(e["index"])["color"],
                      linestyle="none", markersize=9) for e in entries]
    legend_outside(fig, handles, [e["label"] for e in entries])
    fig.suptitle("Speed versus accuracy (one image at a time; up and to the left is better)", y=1.02)
    fig.tight_layout()
    return dp.save(fig, out, "speed_accuracy", quiet)


def training_curves(run_dir, summary, out, quiet):
    losses, mining = [], []
    for e in dp.ok_entries(summary):
        log = dp.read_train_log(run_dir, e)
        if log is None or log.empty:
            continue
        if "total_loss" in log.columns and "iteration" in log.columns:
            losses.append((e, log))
        elif {"round", "positive_errors", "negative_errors"} <= set(log.columns):
            mining.append((e, log))
    if not losses and not mining:
        return None
    panels = (1 if losses else 0) + (1 if mining else 0)
    fig, axes = plt.subplots(1, panels, figsize=(6.0 * panels, 4.2), squeeze=False)
    handles, labels = [], []
    col = 0
    if losses:
        ax = axes[0][col]
        col += 1
        for e, log in losses:
            style = dp.detector_style(e["index"])
            (line,) = ax.plot(log["iteration"], log["total_loss"], color=style["color"], linestyle=style["linestyle"],
                              linewidth=1.6)
            handles.append(line)
            labels.append(e["label"])
        ax.set_yscale("log")
        # Plain numbers at 1-2-5 steps; unlabelled minor ticks (labels at every minor tick collide).
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        # "%g": ScalarFormatter picks one decimal count for the whole axis and printed 0.5 as "0".
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("iteration")
        ax.set_ylabel("total training loss (mean per logging window, log scale)")
        ax.set_title("Deep detectors: training loss")
    if mining:
        ax = axes[0][col]
        for e, log in mining:
            style = dp.detector_style(e["index"])
            per_round = log.groupby("round")[["positive_errors", "negative_errors", "positives", "negatives"]].sum()
            # Error rate of the SVMs on their own training set after each round: mining adds the negatives the
            # previous model scored wrongly, so later rounds train on harder sets (a rising rate is expected).
            err = (per_round["positive_errors"] + per_round["negative_errors"]) / (
                per_round["positives"] + per_round["negatives"]).clip(lower=1)
            (line,) = ax.plot(per_round.index, err, color=style["color"], linestyle=style["linestyle"],
                              marker=style["marker"], linewidth=1.6)
            if e["label"] not in labels:
                handles.append(line)
                labels.append(e["label"])
        ax.set_xlabel("hard-negative mining round (0 = random negatives)")
        ax.set_ylabel("SVM error rate on its training samples")
        ax.set_ylim(bottom=0)
        ax.set_title("SVM detectors: hard-negative mining")
        ax.xaxis.get_major_locator().set_params(integer=True)
    legend_outside(fig, handles, labels)
    fig.suptitle("Training curves (first seed)", y=1.02)
    fig.tight_layout()
    return dp.save(fig, out, "training_curves", quiet)


# train_log.csv columns that are not loss terms (train/train_log.h writes these beside the losses).
NOT_LOSS_COLUMNS = {"iteration", "epoch", "total_loss", "lr", "elapsed_s"}


def loss_components(run_dir, summary, out, quiet):
    """One panel per deep detector: each loss term of its last output over the iterations (first seed).

    The total of training_curves hides which term is stuck: DETR's class loss sitting at the constant-guess value
    while its box terms fall is the signature of queries that have not learned where to look.
    """
    panels = []
    for e in dp.ok_entries(summary):
        log = dp.read_train_log(run_dir, e)
        if log is None or log.empty or "iteration" not in log.columns:
            continue
        # DETR's auxiliary decoder layers (loss_ce_0, ...) repeat the last layer's terms: left out.
        terms = [c for c in log.columns if c not in NOT_LOSS_COLUMNS and not re.search(r"_\d+$", c)]
        if len(terms) >= 2:
            panels.append((e, log, terms))
    if not panels:
        return None
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    for i, (e, log, terms) in enumerate(panels):
        ax = axes[i // cols][i % cols]
        bases = list(dict.fromkeys(re.sub(r"_enc$", "", t) for t in terms))  # a term and its _enc twin share a colour
        for term in terms:
            j = bases.index(re.sub(r"_enc$", "", term))
            ax.plot(log["iteration"], log[term], linewidth=1.5, color=plt.cm.tab10(j % 10),
                    linestyle="--" if term.endswith("_enc") else "-", label=re.sub(r"^loss_", "", term))
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(e["label"])
        ax.set_xlabel("iteration")
        if i % cols == 0:
            ax.set_ylabel("weighted loss (log scale)")
        ax.legend(fontsize=7, loc="best", frameon=False)
    for k in range(len(panels), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    fig.suptitle("Loss terms of each deep detector (first seed; dashed: DETR's encoder tokens)", y=1.01)
    fig.tight_layout()
    return dp.save(fig, out, "loss_components", quiet)


def proposal_recall(run_dir, summary, out, quiet):
    curves = []
    for i, p in enumerate(summary.get("proposals", [])):
        if p.get("file"):
            curves.append((i, p["label"], dp.read_json(os.path.join(run_dir, p["file"]))))
    if not curves:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    handles = []
    for i, label, c in curves:
        style = dp.detector_style(i)
        for ax, key in ((axes[0], "recall_50"), (axes[1], "average_recall")):
            xs = [n for n, v in zip(c["top_n"], c[key]) if v is not None]
            ys = [v for v in c[key] if v is not None]
            (line,) = ax.plot(xs, ys, color=style["color"], linestyle=style["linestyle"], marker=style["marker"],
                              linewidth=1.6)
        handles.append(line)
    for ax, name, title in ((axes[0], "recall at IoU 0.5", "Recall at IoU 0.5"),
                            (axes[1], "average recall, IoU 0.5:0.95", "Average recall (IoU 0.5:0.95)")):
        ax.set_xscale("log")
        ax.set_xlabel("proposals per image (top N by objectness, log scale)")
        ax.set_ylabel(name)
        ax.set_ylim(0, 1.02)
        ax.set_title(title + " vs N")
    labels = ["%s (%.0f per image)" % (label, c["proposals_per_image"]) for _, label, c in curves]
    legend_outside(fig, handles, labels)
    fig.suptitle("Proposal recall versus number of proposals (test split, %d images)" % curves[0][2]["images"], y=1.02)
    fig.tight_layout()
    return dp.save(fig, out, "proposal_recall", quiet)


def best_f1_thresholds(run_dir, entry, classes):
    """Per class, the score at which the detector's F1 on the test split is highest (its operating point)."""
    thresholds = {}
    for k, name in enumerate(classes):
        pr = dp.read_pr(run_dir, entry, name, k)
        if pr is None or not pr[0]:
            continue
        recall, _, score, precision = pr
        best, best_f1 = None, -1.0
        for r, p, s in zip(recall, precision, score):
            f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
            if f1 > best_f1:
                best, best_f1 = s, f1
        thresholds[k] = best
    return thresholds


def box(xy, w, h, colour):
    """A box outline in the class colour over a thin white halo, readable on dark and light images alike."""
    return Rectangle(xy, w, h, fill=False, linewidth=1.6, edgecolor=colour,
                     path_effects=[patheffects.Stroke(linewidth=3.0, foreground="white", alpha=0.8), patheffects.Normal()])


def detection_grid(run_dir, summary, out, quiet):
    gt_path = os.path.join(run_dir, summary.get("samples", "samples/ground_truth.json"))
    if not os.path.exists(gt_path):
        return None
    gt = dp.read_json(gt_path)
    images = gt["images"]
    classes = gt["class_names"]
    entries = [e for e in summary["entries"]]
    if not images:
        return None
    # The sample images' detections per entry (first seed), written by detlab compare.
    det_path = os.path.join(os.path.dirname(gt_path), "detections.json")
    sample_dets = dp.read_json(det_path) if os.path.exists(det_path) else {}
    dets = {}
    for e in entries:
        if e["status"] != "ok" or not e["runs"] or e["label"] not in sample_dets:
            continue
        per_image = {}
        for d in sample_dets[e["label"]]:
            per_image.setdefault(d["image_id"], []).append(d)
        dets[e["label"]] = (per_image, best_f1_thresholds(run_dir, e, classes))
    rows = 1 + len(entries)
    cols = len(images)
    aspect = images[0]["height"] / max(1, images[0]["width"])
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols + 0.6, 3.4 * aspect * rows + 0.4), squeeze=False)
    # detections.json holds COCO category ids; the data set's own ids map back to labels.
    category_to_label = {c: k for k, c in enumerate(gt.get("category_ids", []))}
    for row in range(rows):
        entry = entries[row - 1] if row > 0 else None
        for col, img in enumerate(images):
            ax = axes[row][col]
            ax.imshow(plt.imread(os.path.join(os.path.dirname(gt_path), img["file"])))
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for side in ("top", "right", "bottom", "left"):
                ax.spines[side].set_visible(False)
            if row == 0:
                ax.set_title(img["name"], fontsize=9)
                for o in img["objects"]:
                    x1, y1, x2, y2 = o["box"]
                    ax.add_patch(box((x1, y1), x2 - x1, y2 - y1, dp.class_colour(o["label"])))
            elif entry["label"] in dets:
                per_image, thresholds = dets[entry["label"]]
                shown = 0
                for d in per_image.get(img["id"], []):
                    label = category_to_label.get(d["category_id"], d["category_id"] - 1)
                    t = thresholds.get(label)
                    if t is None or d["score"] < t:
                        continue
                    x, y, w, h = d["bbox"]
                    ax.add_patch(box((x, y), w, h, dp.class_colour(label)))
                    shown += 1
                ax.text(0.99, 0.01, "%d boxes" % shown, transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                        color="white", bbox=dict(facecolor="black", alpha=0.6, pad=1.5, linewidth=0))
            else:
                ax.text(0.5, 0.5, "failed", transform=ax.transAxes, ha="center", va="center", fontsize=12,
                        color="white", bbox=dict(facecolor="black", alpha=0.7, linewidth=0))
            if col == 0:
                ax.set_ylabel("ground truth" if row == 0 else entry["label"], fontsize=10, rotation=90)
    handles = [Rectangle((0, 0), 1, 1, fill=False, edgecolor=dp.class_colour(k), linewidth=2) for k in range(len(classes))]
    fig.legend(handles, classes, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(classes), frameon=False,
               title="box colour = class; detections shown at each detector's best-F1 score threshold per class")
    fig.tight_layout(pad=0.3, h_pad=0.3, w_pad=0.3)
    return dp.save(fig, out, "detections_grid", quiet)


def ap_per_class(run_dir, summary, out, quiet):
    entries = dp.ok_entries(summary)
    classes = summary["class_names"]
    if not entries or not classes:
        return None
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(classes) * max(1, len(entries)) / 3 + 3), 4.2))
    width = 0.8 / len(entries)
    for j, e in enumerate(entries):
        style = dp.detector_style(e["index"])
        values = [e["per_class"].get(c, {}).get("AP50") for c in classes]
        values = [v if v is not None else math.nan for v in values]
        ax.bar([k + (j - (len(entries) - 1) / 2) * width for k in range(len(classes))], values, width=width,
               color=style["color"], label=e["label"], edgecolor="white", linewidth=0.5)
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels(classes)
    ax.set_ylabel("COCO AP@.5")
    ax.set_ylim(0, 1.05)
    ax.set_title("AP50 per class on the test split")
    ax.grid(axis="x", visible=False)
    handles, labels = ax.get_legend_handles_labels()
    legend_outside(fig, handles, labels)
    fig.tight_layout()
    return dp.save(fig, out, "ap_per_class", quiet)


def main():
    parser = argparse.ArgumentParser(description="Plots of a detlab compare results folder.")
    parser.add_argument("run_dir")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    dp.apply_style()
    summary = dp.load_compare(args.run_dir)
    out = os.path.join(args.run_dir, "plots")
    written = []
    for fn in (pr_curves, ap_per_class, speed_accuracy, training_curves, loss_components, proposal_recall,
               detection_grid):
        path = fn(args.run_dir, summary, out, args.quiet)
        if path:
            written.append(path)
    print("plots: %d written to %s" % (len(written), out))


if __name__ == "__main__":
    main()
