// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The detlab command table: one entry per subcommand, each implemented in cmd_<name>.cpp.
#pragma once

#include <string>
#include <vector>

namespace detlab::cli {

/// A subcommand. run() receives the arguments after the subcommand name and returns the exit code:
/// 0 success, 1 internal error, 2 bad input or usage (a one-line message naming the file and field).
struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& commands();

/// Runs `detlab <args...>` in-process: dispatch, --help / --version, error handling and exit codes.
int run(const std::vector<std::string>& args);

// One per cmd_<name>.cpp.
int cmd_list(const std::vector<std::string>& args);
int cmd_train(const std::vector<std::string>& args);
int cmd_detect(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_eval_proposals(const std::vector<std::string>& args);
/// `detlab eval CONFIG --model DIR` (cmd_eval_model.cpp); cmd_eval dispatches to it when --model is given.
int eval_model(const std::vector<std::string>& args);
int cmd_dataset(const std::vector<std::string>& args);
/// `detlab visualize` (cmd_visualize.cpp; built with LibTorch: DETLAB_WITH_VIZ).
int cmd_visualize(const std::vector<std::string>& args);
int cmd_compare(const std::vector<std::string>& args);
int cmd_ablate(const std::vector<std::string>& args);
int cmd_plot(const std::vector<std::string>& args);

}  // namespace detlab::cli
