// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Options shared by subcommands (--threads, --quiet, --set, --seed, --device) and Boost.Program_options glue.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace detlab::cli {

namespace po = boost::program_options;

struct CommonOptions {
  int threads = 0;  // 0: all cores
  bool quiet = false;
  std::vector<std::string> overrides;  // --set a.b=c
  uint64_t seed = 0;
  std::string device = "cpu";
};

/// Adds --threads, --quiet (and, with config = true, --set) to desc, bound to opts.
void add_common_options(po::options_description& desc, CommonOptions& opts, bool config = true);
/// Adds --seed and --device (training / inference commands).
void add_run_options(po::options_description& desc, CommonOptions& opts);
/// Applies --threads to OpenCV and (when linked) LibTorch, and --quiet to progress bars.
void apply_common_options(const CommonOptions& opts);

/// Parses args against desc + positional; returns false after printing help when --help was given.
/// Usage errors throw po::error (reported as exit code 2 by run()).
bool parse_args(const std::vector<std::string>& args, const std::string& usage, po::options_description& desc,
                const po::positional_options_description& positional, po::variables_map& vm);

/// Hook set by layers that link LibTorch, so that --threads reaches at::set_num_threads without torch here.
using ThreadHook = void (*)(int threads);
void set_thread_hook(ThreadHook hook);

}  // namespace detlab::cli
