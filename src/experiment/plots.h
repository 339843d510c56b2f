// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Plots: the matplotlib scripts in src/experiment/plots/ run on a results folder (compare or ablation).
#pragma once

#include <filesystem>
#include <string>

namespace detlab {

/// The Python interpreter with matplotlib / pandas: $DETLAB_PYTHON, else the build's DETLAB_PYTHON
/// (/usr/bin/python3, Debian's packages).
std::string plot_python();
/// The folder of the plotting scripts: $DETLAB_PLOT_SCRIPTS, else <source tree>/src/experiment/plots.
std::filesystem::path plot_scripts_dir();

/// What kind of results folder this is: "compare" (summary.json), "ablation" (ablation.json) or "" (neither).
std::string results_kind(const std::filesystem::path& run_dir);

/// Runs plot_compare.py or plot_ablation.py (by results_kind) on run_dir; they write run_dir/plots/*.png and
/// *.svg and print one line per file. Returns "" on success, else one line saying what failed (missing
/// interpreter or script, non-zero exit). InputError when run_dir is not a results folder.
std::string make_plots(const std::filesystem::path& run_dir, bool quiet = false);

}  // namespace detlab
