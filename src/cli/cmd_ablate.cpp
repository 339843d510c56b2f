// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab ablate: run a grid of config overrides x seeds (resumable, shardable) and collect the table.
#include <iostream>

#include "cli/command.h"
#include "cli/options.h"
#include "core/error.h"
#include "experiment/ablate.h"
#include "experiment/manifest.h"

namespace detlab::cli {

int cmd_ablate(const std::vector<std::string>& args) {
  CommonOptions common;
  std::string config, out, name, shard;
  std::vector<std::string> grids, eval_only;
  int seeds = 0;
  bool collect = false, retrain = false, reuse_stale = false, no_plots = false, dry_run = false, quick = false;
  po::options_description desc("detlab ablate options");
  add_common_options(desc, common);
  desc.add_options()("config", po::value<std::string>(&config), "ablation spec or experiment config (YAML)")(
      "grid,g", po::value<std::vector<std::string>>(&grids)->composing(),
      "axis key=v1,v2,... (repeatable; a value @file.yaml replaces a whole subtree, e.g. a stage)")(
      "seeds", po::value<int>(&seeds)->default_value(0), "seeds 0..N-1 per setting (default: the spec's, else 1)")(
      "eval-only", po::value<std::vector<std::string>>(&eval_only)->composing(),
      "a key that only changes inference (e.g. detector.postprocess): settings that differ only there share a model")(
      "name", po::value<std::string>(&name), "grid name: output folder results/runs/<name>")(
      "out,o", po::value<std::string>(&out), "output folder (default: results/runs/<name>)")(
      "shard", po::value<std::string>(&shard), "run only slice i/n of the grid (0 <= i < n)")(
      "collect", po::bool_switch(&collect), "only merge finished points into the tables")(
      "dry-run", po::bool_switch(&dry_run), "list the points and check that each config builds; train nothing")(
      "quick", po::bool_switch(&quick),
      "the spec's quick preset (first value of each axis, one seed, its quick.set): a smoke test, "
      "results/runs/<name>_quick")(
      "retrain", po::bool_switch(&retrain), "ignore cached models and evaluations")(
      "reuse-stale", po::bool_switch(&reuse_stale),
      "reuse finished points of the same config and seed even when their code, data, threads or device differ")(
      "no-plots", po::bool_switch(&no_plots), "skip the plots")(
      "device", po::value<std::string>(&common.device)->default_value("cpu"), "cpu or cuda");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  if (!parse_args(args,
                  "usage: detlab ablate CONFIG [--grid key=v1,v2,...]... [--seeds N] [--quick] [--shard i/n] [--out DIR]\n"
                  "       detlab ablate [CONFIG ...] --collect [--out DIR]\n\n"
                  "Runs every point of the grid (the spec's rows x the cartesian product of its axes x seeds) as\n"
                  "its own run folder, reusing finished points, then writes table.md / .csv / .tex with\n"
                  "mean +- std and a 95 % bootstrap confidence interval per metric (and claims.md when the spec\n"
                  "states a paper's findings). CONFIG is an ablation spec (experiments/ablations/,\n"
                  "experiments/papers/) or a plain experiment config. --shard i/n runs one slice (a cluster job\n"
                  "array); --collect merges the slices afterwards.",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  const std::string command_line = join_command_line("detlab ablate", args);

  if (config.empty()) {
    if (!collect || out.empty())
      throw InputError("", "CONFIG", "missing (only `detlab ablate --collect --out DIR` works without one)");
  }
  AblationSpec spec;
  std::filesystem::path dir = out;
  if (!config.empty()) {
    spec = load_ablation_spec(config, quick);
    for (const std::string& g : grids) add_axis(spec, parse_grid_arg(g));
    if (seeds < 0) throw InputError("--seeds", std::to_string(seeds), "must be >= 1");
    if (seeds > 0) {
      spec.seeds.clear();
      for (int s = 0; s < seeds; ++s) spec.seeds.push_back(static_cast<uint64_t>(s));
    }
    for (const std::string& e : eval_only) spec.eval_only.push_back(e);
    if (!name.empty()) spec.name = name;
    if (dir.empty()) dir = default_ablation_dir(spec);
  }

  if (dry_run) {
    if (config.empty()) throw InputError("", "CONFIG", "missing (--dry-run checks a grid)");
    AblateOptions opts;
    opts.out_dir = dir;
    opts.threads = common.threads;
    opts.device = common.device;
    opts.overrides = common.overrides;
    if (!shard.empty()) std::tie(opts.shard_index, opts.shard_count) = parse_shard(shard);
    int bad = 0, todo = 0;
    bool input_error = false;
    for (const PointResult& p : dry_run_ablation(spec, opts)) {
      std::cout << p.point.slug << ": ";
      if (!p.ok) {
        ++bad;
        input_error = input_error || p.input_error;
        std::cout << "error: " << p.error << "\n";
        continue;
      }
      todo += p.outcome.evaluated ? 1 : 0;
      std::cout << (p.outcome.evaluated ? "to run" : "finished") << " (model group " << p.point.model_group << ")\n";
    }
    std::cout << todo << " point(s) to run, " << bad << " with errors\n";
    return bad ? (input_error ? 2 : 1) : 0;
  }

  if (!collect) {
    AblateOptions opts;
    opts.out_dir = dir;
    opts.threads = common.threads;
    opts.device = common.device;
    opts.retrain = retrain;
    opts.reuse_stale = reuse_stale;
    opts.overrides = common.overrides;
    opts.command_line = command_line;
    if (!shard.empty()) std::tie(opts.shard_index, opts.shard_count) = parse_shard(shard);
    const AblationRunResult r = run_ablation(spec, opts);
    std::cout << "points: " << r.points.size() << " run by this invocation: " << r.reused << " reused, " << r.trained
              << " trained, " << r.evaluated << " evaluated, " << r.failed << " failed\n";
    if (!shard.empty()) {
      std::cout << "shard " << shard << " done; when every shard has finished: detlab ablate " << config
                << " --collect --out " << r.out_dir.string() << "\n";
      return r.failed ? (r.any_input_error ? 2 : 1) : 0;
    }
    CollectOptions co;
    co.command_line = command_line;
    co.plots = !no_plots;
    const AblationCollectResult c = collect_ablation(r.out_dir, co);
    std::cout << "\n" << to_markdown(c.table);
    if (!c.claims.empty()) std::cout << "\n" << format_claims(c.claims);
    std::cout << "\nwrote " << r.out_dir.string() << "/ (table.md, table.csv, table.tex, "
              << (c.claims.empty() ? "" : "claims.md, ") << "results.json, manifest.json"
              << (co.plots && c.plot_error.empty() ? ", plots/" : "") << ")\n";
    if (r.failed) return r.any_input_error ? 2 : 1;
    return c.plot_error.empty() ? 0 : 1;
  }

  CollectOptions co;
  co.command_line = command_line;
  co.plots = !no_plots;
  const AblationCollectResult c = collect_ablation(dir, co);
  std::cout << to_markdown(c.table) << "\n";
  if (!c.claims.empty()) std::cout << format_claims(c.claims) << "\n";
  std::cout << c.finished << " of " << c.points << " points finished\n";
  for (const std::string& m : c.missing) std::cout << "missing: " << m << "\n";
  std::cout << "wrote " << dir.string() << "/ (table.md, table.csv, table.tex, results.json, manifest.json)\n";
  if (!c.missing.empty()) return 1;
  return c.plot_error.empty() ? 0 : 1;
}

}  // namespace detlab::cli
