// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab compare: train (or reuse) and score every detector of a comparison spec; tables, manifest, plots.
#include <iomanip>
#include <iostream>

#include "cli/command.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/progress.h"
#include "experiment/compare.h"
#include "experiment/manifest.h"

namespace detlab::cli {

int cmd_compare(const std::vector<std::string>& args) {
  CommonOptions common;
  std::string spec_file, out;
  bool quick = false, retrain = false, reuse_stale = false, no_plots = false;
  int seeds = 0;
  po::options_description desc("detlab compare options");
  add_common_options(desc, common);
  desc.add_options()("spec", po::value<std::string>(&spec_file)->required(), "comparison spec (YAML)")(
      "quick", po::bool_switch(&quick), "apply the spec's quick preset (a few minutes; output in <name>_quick)")(
      "out,o", po::value<std::string>(&out), "output folder (default: results/runs/<name>[_quick])")(
      "seeds", po::value<int>(&seeds)->default_value(0),
      "seeds 0..N-1 for every entry (default: the spec's); tables give mean +- std over them")(
      "retrain", po::bool_switch(&retrain), "ignore cached models and evaluations")(
      "reuse-stale", po::bool_switch(&reuse_stale),
      "reuse finished entries of the same config and seed even when their code, data, threads or device differ "
      "(marked with a dagger in the tables)")(
      "no-plots", po::bool_switch(&no_plots), "skip the plots")(
      "device", po::value<std::string>(&common.device)->default_value("cpu"), "cpu or cuda");
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  if (!parse_args(args,
                  "usage: detlab compare SPEC.yaml [--quick] [--out DIR] [--retrain] [--set key=value ...]\n\n"
                  "Trains and evaluates every entry of the spec with the same harness, reusing an entry only when\n"
                  "the same config, data, seed, threads, device and code made it (a stale entry is redone, and the\n"
                  "log says what changed). Then writes table.md / .csv / .tex, per_class.*, timing.*, summary.json,\n"
                  "manifest.json (with each entry's own provenance) and plots/ into the output folder and prints\n"
                  "the table. A failing entry is\n"
                  "recorded in the table and the others still run (exit code 2 for a config error, 1 otherwise).\n"
                  "--set overrides apply to every entry. Spec format: experiments/README.md.",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  CompareSpec spec = load_compare_spec(spec_file, quick);
  if (seeds < 0) throw InputError("", "--seeds", "must be >= 1, got " + std::to_string(seeds));
  if (seeds > 0) {
    spec.seeds.clear();
    for (int s = 0; s < seeds; ++s) spec.seeds.push_back(static_cast<uint64_t>(s));
  }
  CompareOptions opts;
  opts.out_dir = out;
  opts.threads = common.threads;
  opts.device = common.device;
  opts.retrain = retrain;
  opts.reuse_stale = reuse_stale;
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
