// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab eval CONFIG --model DIR: evaluate a trained model on a split (dispatched from cmd_eval.cpp).
#include <iostream>

#include "cli/command.h"
#include "cli/options.h"
#include "pipeline/allocator.h"
#include "eval/metrics.h"
#include "experiment/run.h"

namespace detlab::cli {

int eval_model(const std::vector<std::string>& args) {
  CommonOptions common;
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
      "out,o", po::value<std::string>(&out), "folder for metrics.json + detections.json (default: the model folder)");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  if (!parse_args(args,
                  "usage: detlab eval CONFIG --model DIR | --pretrained [--split test] [--out DIR] [--set key=value ...]\n\n"
                  "Detects every image of the split with a trained model, times each stage and scores the\n"
                  "detections (COCO / VOC07 / VOC12 as the config's eval.protocols say).",
                  desc, pos, vm))
    return 0;
  apply_common_options(common);
  reuse_large_allocations();
  const RunConfig rc = load_run_config(config, common.overrides);
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
  std::cout << format_summary(er.evaluation) << format_run_report(er, rc.dataset.class_names) << "wrote "
            << (eo.out_dir / "metrics.json").string() << " and "
            << (eo.out_dir / "detections.json").string() << "\n";
  return 0;
}

}  // namespace detlab::cli
