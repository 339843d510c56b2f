// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab plot: (re)draw the plots of a comparison or ablation results folder with matplotlib.
#include <iostream>

#include "cli/command.h"
#include "cli/options.h"
#include "experiment/plots.h"

namespace detlab::cli {

int cmd_plot(const std::vector<std::string>& args) {
  CommonOptions common;
  std::string dir;
  po::options_description desc("detlab plot options");
  add_common_options(desc, common, /*config=*/false);
  desc.add_options()("run-dir", po::value<std::string>(&dir)->required(),
                     "results folder of detlab compare or detlab ablate");
  po::positional_options_description pos;
  pos.add("run-dir", 1);
  po::variables_map vm;
  if (!parse_args(args,
                  "usage: detlab plot RUN_DIR\n\n"
                  "Draws RUN_DIR/plots/*.png and *.svg with matplotlib (" + plot_python() + ", scripts in " +
                      plot_scripts_dir().string() +
                      "): for a comparison, PR curves per class, speed vs accuracy, training loss, proposal\n"
                      "recall vs number of proposals and a grid of test images with each detector's boxes; for an\n"
                      "ablation, each metric vs the grid parameter with its 95 % confidence band.",
                  desc, pos, vm))
    return 0;
  const std::string error = make_plots(dir, common.quiet);
  if (!error.empty()) {
    std::cerr << "detlab plot: error: " << error << "\n";
    return 1;
  }
  return 0;
}

}  // namespace detlab::cli
