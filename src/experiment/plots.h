// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Plots: the matplotlib scripts of src/experiment/plots/ (installed as share/detlab/plots) run on a results folder.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace detlab {

/// The Python interpreter with matplotlib / pandas: $DETLAB_PYTHON, else the build's DETLAB_PYTHON
/// (/usr/bin/python3, Debian's packages).
std::string plot_python();
/// Where the plotting scripts are looked for beside the running executable: <bin>/../share/detlab/plots (an
/// installed tree, `cmake --install`), then <bin>/../../share/detlab/plots (the build tree, where the configure
/// step links build/share/detlab/plots to src/experiment/plots for build/src/cli/detlab and build/tests/*).
std::vector<std::filesystem::path> plot_script_candidates();
/// The folder of the plotting scripts: $DETLAB_PLOT_SCRIPTS, else the first candidate that holds them (the
/// first candidate when none does, so that the error names where they were expected).
std::filesystem::path plot_scripts_dir();

/// What kind of results folder this is: "compare" (summary.json), "ablation" (ablation.json) or "" (neither).
std::string results_kind(const std::filesystem::path& run_dir);

/// Runs plot_compare.py or plot_ablation.py (by results_kind) on run_dir; they write run_dir/plots/*.png and
/// *.svg and print one line per file. Returns "" on success, else one line saying what failed (missing
/// interpreter or script, non-zero exit). InputError when run_dir is not a results folder.
std::string make_plots(const std::filesystem::path& run_dir, bool quiet = false);

}  // namespace detlab
