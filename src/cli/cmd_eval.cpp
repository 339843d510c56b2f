// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab eval --gt GT --dt DETS: score a COCO results file against a dataset (CONFIG --model mode: cmd_eval_model).
#include <algorithm>
#include <iostream>

#include "cli/command.h"
#include "cli/eval_flags.h"
#include "cli/options.h"
#include "config/config.h"
#include "core/error.h"
#include "data/formats.h"
#include "eval/detections.h"
#include "experiment/eval_settings.h"

namespace detlab::cli {

namespace {

const char* const kUsage =
    "usage: detlab eval --gt GT --dt DETS [--out DIR] [--protocol coco|voc07|voc12|all] [--iou 0.5] [...]\n"
    "       detlab eval CONFIG --model DIR [...]     (a trained model; see detlab eval CONFIG --model DIR --help)\n\n"
    "Scores detections in the COCO results format (a JSON list of {image_id, category_id, bbox [x, y, w, h],\n"
    "score}; any finite score, other fields ignored) against ground truth: a COCO instances JSON, a VOC\n"
    "folder, a YOLO folder or a dlib XML. Prints pycocotools' 12-line summary (COCO) and the per-class AP\n"
    "tables (VOC07 11-point, VOC12 all-point); with --out writes metrics.json (its keys: src/eval/metrics.h),\n"
    "class_ap.md / .csv, pr/ (VOC per class, COCO per IoU threshold), tide.txt and confusion.csv as asked:\n"
    "the files `detlab eval CONFIG --model` writes. COCO follows pycocotools' COCOeval exactly; VOC follows\n"
    "py-faster-rcnn's voc_eval.py on the same boxes written in the devkit's 1-based inclusive convention\n"
    "(difficult objects ignored, IoU > --iou; see src/eval/voc_eval.h for the pixel rule and --plus-one).";

bool wants_model_mode(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--model" || a == "-m" || a.rfind("--model=", 0) == 0 || a == "--pretrained";
  });
}

}  // namespace

int cmd_eval(const std::vector<std::string>& args) {
  if (wants_model_mode(args)) return eval_model(args);

  CommonOptions common;
  EvalFlags flags;
  std::string gt_path, dt_path, gt_format = "auto", split, out, json, pr_dir, table;
  po::options_description desc("detlab eval options");
  add_common_options(desc, common, /*config=*/false);
  desc.add_options()("gt", po::value<std::string>(&gt_path)->required(), "ground truth: COCO .json or dataset folder")(
      "dt", po::value<std::string>(&dt_path)->required(), "detections: COCO results JSON list")(
      "gt-format", po::value<std::string>(&gt_format)->default_value("auto"), "auto, coco, voc, yolo or dlib")(
      "split", po::value<std::string>(&split), "evaluate on this split of GT only")(
      "out,o", po::value<std::string>(&out), "write every output file into this folder")(
      "json", po::value<std::string>(&json), "write metrics.json here")(
      "pr", po::value<std::string>(&pr_dir), "write the precision-recall CSV files into this folder")(
      "table", po::value<std::string>(&table), "write the per-class AP table here (.md or .csv)");
  add_eval_flags(desc, flags);
  po::variables_map vm;
  if (!parse_args(args, kUsage, desc, {}, vm)) return 0;
  apply_common_options(common);

  // The flags go through the parser of a config's eval section: one set of checks and defaults.
  Config config;
  config.apply_overrides(eval_overrides(flags, vm));
  const EvalSettings settings = config.has("eval") ? parse_eval_settings(config.child("eval")) : EvalSettings{};
  ReportOptions ro = report_options(settings, out);
  ro.eval.threads = common.threads;
  if (!json.empty()) ro.metrics_json = json;
  if (!pr_dir.empty()) ro.pr_dir = pr_dir;
  if (!table.empty()) ro.table = table;
  ro.print_class_table = flags.classes;

  ReadOptions read;
  read.split = split;
  const Dataset gt = read_dataset(gt_path, gt_format, read);
  const DetectionSet dets = read_coco_results(dt_path, gt);
  std::cerr << "ground truth: " << gt.images.size() << " images, " << gt.num_objects() << " objects, "
            << gt.num_classes() << " classes; detections: " << num_detections(dets) << "\n";
  if (!out.empty()) std::filesystem::create_directories(out);
  std::cout << evaluate_and_report(gt, dets, ro).text;
  if (!out.empty()) std::cerr << "wrote " << out << "/\n";
  for (const std::string& f : {json, table})
    if (!f.empty()) std::cerr << "wrote " << f << "\n";
  if (!pr_dir.empty()) std::cerr << "wrote " << pr_dir << "/\n";
  return 0;
}

}  // namespace detlab::cli
