// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Evaluation flags -> eval.* overrides.
#include "cli/eval_flags.h"

#include <sstream>

namespace detlab::cli {

namespace {

/// "a,b,c" -> "[a, b, c]" (YAML flow sequence); items stay as typed, the parser checks them.
std::string yaml_list(const std::string& csv) {
  std::string out = "[";
  std::istringstream in(csv);
  std::string item;
  for (bool first = true; std::getline(in, item, ','); first = false) out += (first ? "" : ", ") + item;
  return out + "]";
}

/// "all:0:1e10,small:0:1024" -> "[[all, 0, 1e10], [small, 0, 1024]]".
std::string yaml_ranges(const std::string& text) {
  std::string out = "[";
  std::istringstream in(text);
  std::string range;
  for (bool first = true; std::getline(in, range, ','); first = false) {
    std::string r = range;
    for (char& c : r)
      if (c == ':') c = ',';
    out += (first ? "[" : ", [") + r + "]";
  }
  return out + "]";
}

}  // namespace

void add_eval_flags(po::options_description& desc, EvalFlags& f) {
  desc.add_options()("protocol", po::value<std::string>(&f.protocols),
                     "coco, voc07, voc12, a comma-separated list, or all (default: eval.protocols, else all)")(
      "iou", po::value<std::string>(&f.iou), "VOC protocols: IoU threshold, a match needs IoU > it (default 0.5)")(
      "plus-one", po::bool_switch(&f.plus_one),
      "VOC protocols: the devkit's +1 pixel widths, for boxes in the XML's inclusive numbering (src/eval/voc_eval.h)")(
      "no-plus-one", po::bool_switch(&f.no_plus_one), "VOC protocols: continuous boxes, no +1 (the default)")(
      "coco-iou", po::value<std::string>(&f.coco_iou),
      "COCO protocol: IoU thresholds, comma-separated (default .50:.05:.95 as pycocotools)")(
      "max-dets", po::value<std::string>(&f.max_dets), "COCO protocol: detections per image, e.g. 1,10,100")(
      "area-ranges", po::value<std::string>(&f.area_ranges),
      "COCO protocol: label:min:max,... in pixels^2 (default all:0:1e10,small:0:1024,medium:1024:9216,large:9216:1e10)")(
      "tide", po::bool_switch(&f.tide), "TIDE error breakdown (Bolya et al. 2020); tide.txt with --out")(
      "errors", po::bool_switch(&f.errors),
      "what each class's top detections are: correct / localization / similar / other / background (YOLO v1's "
      "figure 4, after Hoiem et al. 2012); errors.md and errors.csv with --out")(
      "confusion", po::bool_switch(&f.confusion), "confusion matrix (confusion.csv with --out) at --score")(
      "score", po::value<std::string>(&f.score),
      "confusion matrix at this score threshold (implies --confusion; default 0.5; any finite number)")(
      "no-pr", po::bool_switch(&f.no_pr), "no precision-recall CSV files")(
      "classes", po::bool_switch(&f.classes), "print the per-class AP table");
}

std::vector<std::string> eval_overrides(const EvalFlags& f, const po::variables_map& vm) {
  if (f.plus_one && f.no_plus_one) throw po::error("give at most one of --plus-one and --no-plus-one");
  std::vector<std::string> o;
  if (vm.count("protocol")) o.push_back("eval.protocols=" + f.protocols);
  if (vm.count("iou")) o.push_back("eval.voc.iou=" + f.iou);
  if (f.plus_one) o.push_back("eval.voc.plus_one=true");
  if (f.no_plus_one) o.push_back("eval.voc.plus_one=false");
  if (vm.count("coco-iou")) o.push_back("eval.coco.iou_thresholds=" + yaml_list(f.coco_iou));
  if (vm.count("max-dets")) o.push_back("eval.coco.max_dets=" + yaml_list(f.max_dets));
  if (vm.count("area-ranges")) o.push_back("eval.coco.area_ranges=" + yaml_ranges(f.area_ranges));
  if (f.tide) o.push_back("eval.tide=true");
  if (f.errors) o.push_back("eval.errors=true");
  if (vm.count("score"))
    o.push_back("eval.confusion={score: " + f.score + "}");
  else if (f.confusion)
    o.push_back("eval.confusion=true");
  if (f.no_pr) o.push_back("eval.pr_curves=false");
  return o;
}

}  // namespace detlab::cli
