// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab compare: train (or reuse) and score every detector of a comparison spec; tables, manifest, plots.
#include <iomanip>
#include <iostream>

#include "cli/command.h"
#include "cli/options.h"
#include "core/progress.h"
#include "experiment/compare.h"
#include "experiment/manifest.h"

namespace detlab::cli {

int cmd_compare(const std::vector<std::string>& args) {
  CommonOptions common;
  std::string spec_file, out;
  bool quick = false, retrain = false, no_plots = false;
  po::options_description desc("detlab compare options");
  add_common_options(desc, common);
  desc.add_options()("spec", po::value<std::string>(&spec_file)->required(), "comparison spec (YAML)")(
      "quick", po::bool_switch(&quick), "apply the spec's quick preset (a few minutes; output in <name>_quick)")(
      "out,o", po::value<std::string>(&out), "output folder (default: results/runs/<name>[_quick])")(
      "retrain", po::bool_switch(&retrain), "ignore cached models and evaluations")(
      "no-plots", po::bool_switch(&no_plots), "skip the plots")(
      "device", po::value<std::string>(&common.device)->default_value("cpu"), "cpu or cuda");
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  if (!parse_args(args,
                  "usage: detlab compare SPEC.yaml [--quick] [--out DIR] [--retrain] [--set key=value ...]\n\n"
                  "Trains (or reuses cached models keyed by config hash) and evaluates every entry of the spec\n"
                  "with the same harness, then writes table.md / .csv / .tex, per_class.*, timing.*, summary.json,\n"
                  "manifest.json and plots/ into the output folder and prints the table. A failing entry is\n"
                  "recorded in the table and the others still run (exit code 2 for a config error, 1 otherwise).\n"
                  "--set overrides apply to every entry. Spec format: experiments/README.md.",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  const CompareSpec spec = load_compare_spec(spec_file, quick);
  CompareOptions opts;
  opts.out_dir = out;
  opts.threads = common.threads;
  opts.device = common.device;
  opts.retrain = retrain;
  opts.plots = !no_plots;
  opts.overrides = common.overrides;
  opts.command_line = join_command_line("detlab compare", args);
  const CompareResult r = run_compare(spec, opts);
  std::cout << "\n" << format_compare_table(r) << "\n"
            << "wrote " << r.out_dir.string() << "/ (table.md, per_class.md, timing.md, manifest.json"
            << (opts.plots && r.plot_error.empty() ? ", plots/" : "") << ") in " << format_duration(r.wall_seconds)
            << " (" << std::fixed << std::setprecision(0) << r.wall_seconds << " s)\n";
  int failed = 0;
  for (const EntryResult& e : r.entries) failed += e.ok() ? 0 : 1;
  if (failed > 0) std::cout << failed << " of " << r.entries.size() << " entries failed (see the status column)\n";
  return r.exit_code();
}

}  // namespace detlab::cli
