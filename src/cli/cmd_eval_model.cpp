// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab eval CONFIG --model DIR: evaluate a trained model on a split (dispatched from cmd_eval.cpp).
#include <iostream>

#include "cli/command.h"
#include "cli/eval_flags.h"
#include "cli/options.h"
#include "eval/metrics.h"
#include "eval/pr_curves.h"
#include "experiment/run.h"

namespace detlab::cli {

int eval_model(const std::vector<std::string>& args) {
  CommonOptions common;
  EvalFlags flags;
  std::string config, model, out, split = "test";
  int max_images = -1;
  bool pretrained = false;
  po::options_description desc("detlab eval (model) options");
  add_common_options(desc, common);
  desc.add_options()("config", po::value<std::string>(&config)->required(), "experiment config (YAML)")(
      "model,m", po::value<std::string>(&model), "model folder written by detlab train")(
      "pretrained", po::bool_switch(&pretrained),
      "no model folder: the detector as the config builds it, weights from its `weights` keys (e.g. torchvision's)")(
      "split", po::value<std::string>(&split)->default_value("test"), "train, val, test, all or a split name")(
      "max-images", po::value<int>(&max_images)->default_value(-1), "first N images only (default: eval.max_images)")(
      "out,o", po::value<std::string>(&out),
      "folder for every output file (default: the model folder; results/runs/<name> with --pretrained)");
  add_eval_flags(desc, flags);
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  if (!parse_args(args,
                  "usage: detlab eval CONFIG --model DIR | --pretrained [--split test] [--out DIR] [--set key=value ...]\n\n"
                  "Detects every image of the split with a trained model, times each stage and scores the\n"
                  "detections as the config's eval section says; the evaluation flags below override it (each is\n"
                  "an eval.* key, experiments/README.md). Writes metrics.json, detections.json, class_ap.md / .csv,\n"
                  "pr/, and tide.txt / confusion.csv when asked: the files of `detlab eval --gt --dt --out`.",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  std::vector<std::string> overrides = common.overrides;
  for (const std::string& o : eval_overrides(flags, vm)) overrides.push_back(o);
  const RunConfig rc = load_run_config(config, overrides);
  if (model.empty() == !pretrained)
    throw po::error("give exactly one of --model DIR (a trained model folder) and --pretrained");
  std::unique_ptr<Detector> det = pretrained ? build_detector(rc) : load_trained(rc, model);
  if (pretrained && out.empty()) out = (std::filesystem::path("results/runs") / rc.name).string();
  EvalRunOptions eo;
  eo.split = split;
  eo.max_images = max_images;
  eo.out_dir = out.empty() ? std::filesystem::path(model) : std::filesystem::path(out);
  eo.threads = common.threads;
  const EvalReport er = evaluate_run(rc, *det, eo);
  std::cout << er.text;
  if (flags.classes) std::cout << "\n" << format_class_ap_table(er.evaluation, TableFormat::kMarkdown);
  std::cout << format_run_report(er, rc.dataset.class_names) << "wrote " << eo.out_dir.string()
            << "/ (metrics.json, detections.json, class_ap.md / .csv" << (rc.eval.pr_curves ? ", pr/" : "")
            << (rc.eval.tide ? ", tide.txt" : "") << (rc.eval.confusion ? ", confusion.csv" : "") << ")\n";
  return 0;
}

}  // namespace detlab::cli
