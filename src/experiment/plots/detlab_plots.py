# SPDX-License-Identifier: MIT
# Copyright (c) detlab contributors
# Shared plotting style and readers for detlab results folders (compare and ablate), used by plot_compare.py,
# plot_ablation.py and the notebooks. matplotlib + pandas (Debian's python3-matplotlib / python3-pandas).
import csv
import json
import math
import os

import matplotlib

matplotlib.use("Agg")  # headless: scripts and notebooks run in tests without a display
import matplotlib.pyplot as plt  # noqa: E402

# Paul Tol's "muted" qualitative scheme: nine colours distinguishable with the common colour-vision
# deficiencies (https://personal.sron.nl/~pault/). The light sand is last so that few-row plots avoid it.
DETECTOR_COLOURS = ["#332288", "#CC6677", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499",
                    "#DDCC77"]
# Markers and dashes add a second cue besides colour (greyscale prints, more than nine detectors).
DETECTOR_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "h"]
DETECTOR_DASHES = ["-", "--", "-.", ":"]
# Okabe & Ito (2008) colours for classes in image grids (yellow left out: it vanishes on light images).
CLASS_COLOURS = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]


def detector_style(index):
    """Colour, marker and line style of the detector at position `index` of the comparison spec."""
    return {
        "color": DETECTOR_COLOURS[index % len(DETECTOR_COLOURS)],
        "marker": DETECTOR_MARKERS[index % len(DETECTOR_MARKERS)],
        "linestyle": DETECTOR_DASHES[(index // len(DETECTOR_COLOURS) + index) % len(DETECTOR_DASHES)],
    }


def class_colour(label):
    return CLASS_COLOURS[label % len(CLASS_COLOURS)]


def apply_style():
    plt.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "legend.fontsize": 9,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.fonttype": "none",  # text stays text in SVG (searchable, smaller)
    })


def save(fig, plots_dir, stem, quiet=False):
    """Writes plots_dir/stem.png and .svg; returns the PNG path."""
    os.makedirs(plots_dir, exist_ok=True)
    paths = []
    for ext in ("png", "svg"):
        path = os.path.join(plots_dir, stem + "." + ext)
        tmp = path + ".tmp." + ext  # matplotlib picks the format from the extension
        fig.savefig(tmp, bbox_inches="tight")
        os.replace(tmp, path)  # atomic: a failed run never leaves half a file
        paths.append(path)
    plt.close(fig)
    if not quiet:
        print("wrote " + paths[0] + " (and .svg)")
    return paths[0]


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def is_number(text):
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def fmt(value, decimals=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{decimals}f}"


def load_compare(run_dir):
    """summary.json of a detlab compare folder."""
    return read_json(os.path.join(run_dir, "summary.json"))


def ok_entries(summary):
    return [e for e in summary["entries"] if e["status"] == "ok" and e["runs"]]


def first_run_dir(run_dir, entry):
    return os.path.join(run_dir, entry["runs"][0]["dir"])


def class_stem(name, label):
    """eval/pr_curves.h class_file_stem: [A-Za-z0-9._-] kept, anything else '_'."""
    if not name:
        return "class_%d" % label
    return "".join(c if (c.isascii() and (c.isalnum() or c in "._-")) else "_" for c in name)


def read_pr(run_dir, entry, class_name, label):
    """(recall, interpolated precision, score) lists of the entry's first seed for one class; None if absent."""
    path = os.path.join(first_run_dir(run_dir, entry), "pr", class_stem(class_name, label) + ".csv")
    if not os.path.exists(path):
        return None
    rows = read_csv_rows(path)
    return ([float(r["recall"]) for r in rows], [float(r["interpolated_precision"]) for r in rows],
            [float(r["score"]) for r in rows], [float(r["precision"]) for r in rows])


def entries_frame(summary):
    """One row per finished entry: label, index and every summary metric (a pandas DataFrame)."""
    import pandas as pd
    rows = []
    for e in ok_entries(summary):
        row = {"label": e["label"], "index": e["index"]}
        row.update(e["metrics"])
        for k, v in e["std"].items():
            row[k + "_std"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def read_train_log(run_dir, entry):
    """The first seed's train_log.csv as a DataFrame, or None."""
    import pandas as pd
    path = os.path.join(first_run_dir(run_dir, entry), "train_log.csv")
    if not os.path.exists(path):
        return None
    return pd.read_csv(path)
