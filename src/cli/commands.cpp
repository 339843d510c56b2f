// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Command table, dispatch and the error policy shared by every subcommand.
#include <filesystem>
#include <iostream>

#include <opencv2/core/version.hpp>

#include "cli/command.h"
#include "cli/options.h"
#include "core/error.h"

#ifndef DETLAB_VERSION
#define DETLAB_VERSION "unknown"
#endif

namespace detlab::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"list", "list every registered component (proposals, features, classifiers, detectors)", cmd_list},
      {"train", "train a detector from an experiment config and save the model folder", cmd_train},
      {"detect", "run a trained model on image files: PNGs with boxes + COCO results JSON", cmd_detect},
      {"eval", "score detections: --gt GT --dt DETS (COCO results JSON), or CONFIG --model DIR", cmd_eval},
      {"eval-proposals", "recall@0.5/0.7 and AR@N of a config's proposal stage; save a proposal cache", cmd_eval_proposals},
      {"dataset", "dataset tools: stats, convert (voc / coco / yolo / dlib), show, synth", cmd_dataset},
#if DETLAB_WITH_VIZ
      {"visualize", "CNN visualization: filters, activations, patches, t-SNE, saliency, occlusion, CAM, Grad-CAM",
       cmd_visualize},
#endif
      {"compare", "train / reuse and score every detector of a comparison spec: tables, manifest, plots", cmd_compare},
      {"ablate", "run a grid of config overrides x seeds (resumable, --shard i/n, --collect): tables with CIs", cmd_ablate},
      {"plot", "draw the plots of a compare or ablate results folder (matplotlib)", cmd_plot},
  };
  return table;
}

namespace {

void print_usage(std::ostream& os) {
  os << "detlab " DETLAB_VERSION " - classical and deep object detectors on one evaluation harness\n\n"
     << "usage: detlab <command> [options]     (detlab <command> --help for its options)\n\ncommands:\n";
  for (const Command& c : commands()) {
    std::string name = c.name;
    name.resize(16, ' ');
    os << "  " << name << c.summary << "\n";
  }
  os << "\noptions:\n  --help, -h      show this help\n  --version       print the version and exit\n";
}

}  // namespace

int run(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(std::cout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "detlab " DETLAB_VERSION " (OpenCV " CV_VERSION ")\n";
    return 0;
  }
  for (const Command& c : commands()) {
    if (args[0] != c.name) continue;
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    try {
      return c.run(rest);
    } catch (const InputError& e) {
      std::cerr << "detlab " << c.name << ": error: " << e.what() << "\n";
      return 2;
    } catch (const std::filesystem::filesystem_error& e) {  // a path the OS refuses: the user's to fix
      std::cerr << "detlab " << c.name << ": error: " << e.path1().string() << ": " << e.code().message() << "\n";
      return 2;
    } catch (const po::error& e) {
      std::cerr << "detlab " << c.name << ": error: " << e.what() << " (see detlab " << c.name << " --help)\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "detlab " << c.name << ": internal error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "detlab: error: unknown command '" << args[0] << "' (see detlab --help)\n";
  return 2;
}

}  // namespace detlab::cli
