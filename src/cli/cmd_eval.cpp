// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// detlab eval --gt GT --dt DETS: score a COCO results file against a dataset (CONFIG --model mode: cmd_eval_model).
#include <algorithm>
#include <iostream>

#include "cli/command.h"
#include "cli/options.h"
#include "core/error.h"
#include "data/formats.h"
#include "eval/detections.h"
#include "eval/report.h"

namespace detlab::cli {

namespace {

const char* const kUsage =
    "usage: detlab eval --gt GT --dt DETS [--protocol coco|voc07|voc12|all] [--iou 0.5] [--json metrics.json]\n"
    "       detlab eval CONFIG --model DIR [...]     (a trained model; see detlab eval CONFIG --model DIR --help)\n\n"
    "Scores detections in the COCO results format (a JSON list of {image_id, category_id, bbox [x, y, w, h],\n"
    "score}) against ground truth: a COCO instances JSON, a VOC folder, a YOLO folder or a dlib XML. Prints\n"
    "pycocotools' 12-line summary (COCO) and the per-class AP tables (VOC07 11-point, VOC12 all-point), and\n"
    "writes metrics.json with the keys of DESIGN.md. The COCO protocol follows pycocotools' COCOeval exactly;\n"
    "the VOC protocols follow py-faster-rcnn's voc_eval.py (difficult objects ignored, IoU > --iou).";

bool wants_model_mode(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--model" || a == "-m" || a.rfind("--model=", 0) == 0 || a == "--pretrained";
  });
}

}  // namespace

int cmd_eval(const std::vector<std::string>& args) {
  if (wants_model_mode(args)) return eval_model(args);

  CommonOptions common;
  std::string gt_path, dt_path, gt_format = "auto", split, protocols = "all", json, pr_dir, table, confusion;
  double iou = 0.5;
  float score = 0.5f;
  bool no_plus_one = false, tide = false, classes = false;
  po::options_description desc("detlab eval options");
  add_common_options(desc, common, /*config=*/false);
  desc.add_options()("gt", po::value<std::string>(&gt_path)->required(), "ground truth: COCO .json or dataset folder")(
      "dt", po::value<std::string>(&dt_path)->required(), "detections: COCO results JSON list")(
      "gt-format", po::value<std::string>(&gt_format)->default_value("auto"), "auto, coco, voc, yolo or dlib")(
      "split", po::value<std::string>(&split), "evaluate on this split of GT only")(
      "protocol", po::value<std::string>(&protocols)->default_value("all"),
      "coco, voc07, voc12, a comma-separated list, or all")(
      "iou", po::value<double>(&iou)->default_value(0.5), "VOC protocols: IoU threshold (a match needs IoU > it)")(
      "no-plus-one", po::bool_switch(&no_plus_one), "VOC protocols: plain areas instead of the devkit's +1 pixel")(
      "json", po::value<std::string>(&json), "write metrics.json here")(
      "pr", po::value<std::string>(&pr_dir), "write precision-recall points per class into this folder (VOC)")(
      "table", po::value<std::string>(&table), "write the per-class AP table (.md or .csv)")(
      "classes", po::bool_switch(&classes), "print the per-class AP table")(
      "confusion", po::value<std::string>(&confusion), "write the confusion matrix CSV (--score, --iou)")(
      "score", po::value<float>(&score)->default_value(0.5f), "confusion matrix: score threshold")(
      "tide", po::bool_switch(&tide), "print the TIDE error breakdown (Bolya et al. 2020)");
  po::variables_map vm;
  if (!parse_args(args, kUsage, desc, {}, vm)) return 0;
  apply_common_options(common);
  if (!(iou > 0 && iou < 1)) throw InputError("", "--iou", "must be in (0, 1), got " + std::to_string(iou));
  if (!(score >= 0 && score <= 1)) throw InputError("", "--score", "must be in [0, 1], got " + std::to_string(score));

  ReportOptions ro;
  ro.eval.protocols = parse_protocols(protocols, "--protocol");
  ro.eval.threads = common.threads;
  ro.eval.voc.iou_threshold = iou;
  ro.eval.voc.legacy_plus_one = !no_plus_one;
  ro.eval.coco.threads = common.threads;
  ro.metrics_json = json;
  ro.pr_dir = pr_dir;
  ro.table = table;
  ro.confusion_csv = confusion;
  ro.confusion.score_threshold = score;
  ro.confusion.iou_threshold = iou;
  ro.tide = tide;
  ro.print_class_table = classes;

  ReadOptions read;
  read.split = split;
  const Dataset gt = read_dataset(gt_path, gt_format, read);
  const DetectionSet dets = read_coco_results(dt_path, gt);
  std::cerr << "ground truth: " << gt.images.size() << " images, " << gt.num_objects() << " objects, "
            << gt.num_classes() << " classes; detections: " << num_detections(dets) << "\n";
  evaluate_and_report(gt, dets, ro, std::cout);
  for (const std::string& f : {json, table, confusion})
    if (!f.empty()) std::cerr << "wrote " << f << "\n";
  if (!pr_dir.empty()) std::cerr << "wrote " << pr_dir << "/<class>.csv\n";
  return 0;
}

}  // namespace detlab::cli
