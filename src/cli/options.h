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
  int threads = 0;  // --threads as given (0: all cores); apply_common_options resolves it to the count in use
  bool quiet = false;
  std::vector<std::string> overrides;  // --set a.b=c
  uint64_t seed = 0;
  std::string device = "cpu";
};

/// Adds --threads, --quiet (and, with config = true, --set) to desc, bound to opts.
void add_common_options(po::options_description& desc, CommonOptions& opts, bool config = true);
/// Adds --seed and --device (training / inference commands).
void add_run_options(po::options_description& desc, CommonOptions& opts);
/// The command's one runtime step, before any work: resolves --threads (0: every hardware thread) into
/// opts.threads and sets OpenCV's, OpenBLAS's and LibTorch's pools to it (pipeline/runtime.h), so that every
/// later stage and every manifest sees the count in use; keeps large freed blocks in the heap
/// (reuse_large_allocations, pipeline/allocator.h); applies --quiet to progress bars.
void apply_common_options(CommonOptions& opts);

/// Parses args against desc + positional; returns false after printing help when --help was given.
/// Usage errors throw po::error (reported as exit code 2 by run()).
bool parse_args(const std::vector<std::string>& args, const std::string& usage, po::options_description& desc,
                const po::positional_options_description& positional, po::variables_map& vm);

}  // namespace detlab::cli
