// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab train: build a detector from an experiment config, train it, save it (and optionally evaluate it).
#include <iostream>

#if DETLAB_WITH_VIZ
#include "cli/classifier_train.h"
#endif
#include "cli/command.h"
#include "cli/options.h"
#include "core/error.h"
#include "eval/metrics.h"
#include "experiment/run.h"

namespace detlab::cli {

int cmd_train(const std::vector<std::string>& args) {
  CommonOptions common;
  std::string config, out;
  bool evaluate_after = false;
  bool resume = false;
  po::options_description desc("detlab train options");
  add_common_options(desc, common);
  add_run_options(desc, common);
  desc.add_options()("config", po::value<std::string>(&config)->required(), "experiment config (YAML)")(
      "out,o", po::value<std::string>(&out), "model folder (default: results/runs/<name>)")(
      "eval", po::bool_switch(&evaluate_after), "evaluate on the test split afterwards (metrics.json in the folder)")(
      "resume", po::bool_switch(&resume),
      "continue the training checkpointed in --out (after a crash or a kill); a fresh start if there is none");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  if (!parse_args(args,
                  "usage: detlab train CONFIG [--set key=value ...] [--out DIR] [--eval] [--resume] [--threads N]\n\n"
                  "Trains the config's detector on its training split and saves the model folder\n"
                  "(detector.json + stage files, config.yaml, train.json).",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);

  const RunConfig rc = load_run_config(config, common.overrides);
  if (rc.root.has("classifier")) {  // a classification config: the crop classifier that viz/ studies
#if DETLAB_WITH_VIZ
    return train_classifier(rc, common, out, evaluate_after);
#else
    throw InputError(config, "classifier", "classification configs need the LibTorch build (DETLAB_WITH_TORCH)");
#endif
  }
  std::unique_ptr<Detector> det = build_detector(rc, common.seed);
  TrainRunOptions to;
  to.out_dir = out.empty() ? std::filesystem::path("results/runs") / rc.name : std::filesystem::path(out);
  to.threads = common.threads;
  to.seed = common.seed;
  to.device = common.device;
  to.resume = resume;
  const TrainReport tr = train_run(rc, *det, to);
  std::cout << "trained " << rc.name << " (" << det->name() << ") on " << tr.train_images << " images in "
            << tr.train_seconds << " s, " << tr.num_parameters << " parameters -> " << to.out_dir.string() << "\n";
  if (evaluate_after) {
    EvalRunOptions eo;
    eo.out_dir = to.out_dir;
    eo.threads = common.threads;
    const EvalReport er = evaluate_run(rc, *det, eo);
    std::cout << format_summary(er.evaluation) << format_run_report(er, rc.dataset.class_names);
  }
  return 0;
}

}  // namespace detlab::cli
