# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Plots of a `detlab ablate` folder: each metric versus the first grid axis, one line per setting of the other
# axes, mean with its 95 % bootstrap confidence band and the individual seeds as dots; with the error breakdown
# (eval.errors), the share of each error kind per row as stacked bars, as YOLO v1's figure 4. Usage:
#   /usr/bin/python3 plot_ablation.py RUN_DIR [--quiet]      (detlab plot RUN_DIR runs it)
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import detlab_plots as dp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

PANELS = [("AP", "COCO AP@[.5:.95]"), ("AP50", "COCO AP@.5"), ("VOC07", "VOC07 mAP"),
          ("ms_per_image", "wall ms per test image")]


def series(results):
    """Groups rows by the values of every axis but the first: {rest labels: [(x label, row), ...]}."""
    groups = {}
    for row in results["rows"]:
        key = tuple(row["labels"][1:])
        groups.setdefault(key, []).append((row["labels"][0] if row["labels"] else "base", row))
    return groups


def plot(run_dir, quiet=False):
    results = dp.read_json(os.path.join(run_dir, "results.json"))
    axes_def = results["axes"]
    if not results["rows"]:
        return None
    x_name = axes_def[0]["column"] if axes_def else "setting"
    x_key = axes_def[0]["key"] if axes_def else "setting"  # the full dotted key labels the x axis
    x_labels = axes_def[0]["labels"] if axes_def else ["base"]
    numeric = all(dp.is_number(v) for v in x_labels)
    groups = series(results)
    panels = [p for p in PANELS if any(r["metrics"][p[0]]["mean"] is not None for r in results["rows"])]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.3 * len(panels), 4.0), squeeze=False)
    handles, labels = [], []
    for g, (rest, points) in enumerate(groups.items()):
        style = dp.detector_style(g)
        name = ", ".join("%s=%s" % (a["column"], v) for a, v in zip(axes_def[1:], rest)) or "mean over seeds"
        for ax, (key, title) in zip(axes[0], panels):
            xs, means, lo, hi, dots_x, dots_y = [], [], [], [], [], []
            for x_label, row in points:
                m = row["metrics"][key]
                if m["mean"] is None:
                    continue
                x = float(x_label) if numeric else x_labels.index(x_label)
                xs.append(x)
                means.append(m["mean"])
                lo.append(m["ci_lo"] if m["ci_lo"] is not None else m["mean"])
                hi.append(m["ci_hi"] if m["ci_hi"] is not None else m["mean"])
                for v in m["values"]:
                    if v is not None:
                        dots_x.append(x)
                        dots_y.append(v)
            if not xs:
                continue
            if numeric and len(xs) > 1:
                ax.fill_between(xs, lo, hi, color=style["color"], alpha=0.18, linewidth=0)
                (line,) = ax.plot(xs, means, color=style["color"], linestyle=style["linestyle"],
                                  marker=style["marker"], linewidth=1.8)
            else:
                err = [[m - l for m, l in zip(means, lo)], [h - m for m, h in zip(means, hi)]]
                shift = (g - (len(groups) - 1) / 2) * 0.08  # side by side when several series share a category
                line = ax.errorbar([x + shift for x in xs], means, yerr=err, color=style["color"],
                                   marker=style["marker"], linestyle="none", capsize=4, markersize=7)
            ax.scatter(dots_x, dots_y, color=style["color"], s=12, alpha=0.6, zorder=3, linewidths=0)
            if ax is axes[0][0]:
                handles.append(line)
                labels.append(name)
    n_seeds = max(len(r["seeds"]) for r in results["rows"])
    for ax, (key, title) in zip(axes[0], panels):
        ax.set_xlabel(x_key)
        ax.set_ylabel(title)
        ax.set_title(title + " vs " + x_name)
        if not numeric:
            ax.set_xticks(range(len(x_labels)))
            ax.set_xticklabels(x_labels, rotation=20, ha="right")
            ax.set_xlim(-0.5, len(x_labels) - 0.5)
    fig.suptitle("Ablation %s: mean over %d seed(s), band / bars = 95 %% bootstrap CI, dots = seeds"
                 % (results.get("name", ""), n_seeds), y=1.03)
    if len(groups) > 1:
        fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return dp.save(fig, os.path.join(run_dir, "plots"), "ablation", quiet)


ERROR_KINDS = [("correct", "Correct", "#4c9a2a"), ("localization", "Localization", "#f0a202"),
               ("similar", "Similar class", "#8e6bbf"), ("other", "Other class", "#4a90c2"),
               ("background", "Background", "#c0392b")]


def plot_errors(run_dir, quiet=False):
    """Stacked bars: per row, the mean share of each kind among the top detections (None without errors)."""
    results = dp.read_json(os.path.join(run_dir, "results.json"))
    rows = [r for r in results["rows"] if r.get("errors")]
    if not rows:
        return None
    labels = [", ".join(r["labels"]) or "base" for r in rows]
    fig, ax = plt.subplots(figsize=(9.0, 0.8 + 0.7 * len(rows)))
    left = [0.0] * len(rows)
    for key, title, color in ERROR_KINDS:
        shares = [100.0 * sum(r["errors"][key]) / len(r["errors"][key]) for r in rows]
        bars = ax.barh(range(len(rows)), shares, left=left, color=color, label=title, height=0.6)
        for bar, v in zip(bars, shares):
            if v >= 4:  # a label that fits inside its segment
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, "%.1f" % v,
                        ha="center", va="center", fontsize=9, color="white")
        left = [a + b for a, b in zip(left, shares)]
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of each class's top N detections (N = its objects), mean over seeds")
    n_seeds = max(len(r["errors"]["correct"]) for r in rows)
    ax.set_title("Error breakdown (Hoiem et al.; YOLO v1 fig. 4), %s, %d seed(s)" % (results.get("name", ""), n_seeds),
                 pad=30)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=5, frameon=False, fontsize=9)
    fig.tight_layout()
    return dp.save(fig, os.path.join(run_dir, "plots"), "errors", quiet)


def main():
    parser = argparse.ArgumentParser(description="Plots of a detlab ablate results folder.")
    parser.add_argument("run_dir")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    dp.apply_style()
    paths = [p for p in (plot(args.run_dir, args.quiet), plot_errors(args.run_dir, args.quiet)) if p]
    print("plots: %d written to %s" % (len(paths), os.path.join(args.run_dir, "plots")))


if __name__ == "__main__":
    main()
