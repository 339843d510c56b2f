// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Shared option handling for subcommands.
#include "cli/options.h"

#include <iostream>

#include "core/error.h"
#include "core/progress.h"
#include "pipeline/allocator.h"
#include "pipeline/runtime.h"

namespace detlab::cli {

void add_common_options(po::options_description& desc, CommonOptions& opts, bool config) {
  desc.add_options()("help,h", "show this help")(
      "threads,j", po::value<int>(&opts.threads)->default_value(0),
      "threads of every library pool and worker loop (0 = all hardware threads); results may depend on it")(
      "quiet,q", po::bool_switch(&opts.quiet), "no progress bars");
  if (config)
    desc.add_options()("set", po::value<std::vector<std::string>>(&opts.overrides)->composing(),
                       "override a config key, e.g. --set detector.postprocess.nms_iou=0.5 (repeatable; "
                       "value is YAML; @file.yaml replaces a subtree)");
}

void add_run_options(po::options_description& desc, CommonOptions& opts) {
  desc.add_options()("seed", po::value<uint64_t>(&opts.seed)->default_value(0), "random seed")(
      "device", po::value<std::string>(&opts.device)->default_value("cpu"), "cpu or cuda");
}

void apply_common_options(CommonOptions& opts) {
  if (opts.threads < 0)
    throw InputError("", "--threads", "must be >= 0 (0: every hardware thread), got " + std::to_string(opts.threads));
  opts.threads = resolve_thread_count(opts.threads);
  set_library_threads(opts.threads);
  // Every command: training batches and region features are megabytes each, and returning them to the OS
  // between iterations cost compare / ablate 2.5x the training time of `detlab train` (page faults).
  reuse_large_allocations();
  ProgressBar::set_enabled(!opts.quiet);
}

bool parse_args(const std::vector<std::string>& args, const std::string& usage, po::options_description& desc,
                const po::positional_options_description& positional, po::variables_map& vm) {
  po::store(po::command_line_parser(args).options(desc).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << desc << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

}  // namespace detlab::cli
