// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab list: prints every registry's names with their one-line summaries.
#include <iostream>

#include "cli/command.h"
#include "cli/options.h"
#include "pipeline/registries.h"

namespace detlab::cli {

namespace {
template <class Base>
void print_registry(const Registry<Base>& r, const std::string& title) {
  std::cout << title << ":\n";
  if (r.names().empty()) std::cout << "  (none)\n";
  for (const std::string& n : r.names()) {
    std::string padded = n;
    padded.resize(22, ' ');
    std::cout << "  " << padded << r.summary(n) << "\n";
  }
}
}  // namespace

int cmd_list(const std::vector<std::string>& args) {
  po::options_description desc("detlab list options");
  desc.add_options()("help,h", "show this help");
  po::variables_map vm;
  if (!parse_args(args, "usage: detlab list\n\nPrints every registered component, by registry.", desc, {}, vm))
    return 0;
  const Registries& r = builtin_registries();
  print_registry(r.detectors, "detectors");
  print_registry(r.backbones, "backbone stages");
  print_registry(r.proposals, "proposal stages");
  print_registry(r.features, "feature stages");
  print_registry(r.classifiers, "classifier stages");
  return 0;
}

}  // namespace detlab::cli
