// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Per-class AP table, PR CSV files and evaluate_and_report's outputs.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include <unistd.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/eval_test_util.h"
#include "eval/pr_curves.h"
#include "eval/report.h"

using namespace detlab;
using namespace detlab::testing;
namespace fs = std::filesystem;

namespace {

void two_class_case(Dataset& gt, DetectionSet& dets) {
  gt = make_dataset(3, {1, 2});
  gt.class_names = {"cat", "traffic light", "dog"};
  gt.images[0].objects = {object(0, {0, 0, 40, 40}), object(1, {100, 100, 200, 200})};
  gt.images[1].objects = {object(0, {10, 10, 30, 30})};
  dets = {{1, {det(0, {0, 0, 40, 40}, 0.9f), det(1, {100, 100, 200, 200}, 0.8f)}},
          {2, {det(0, {50, 50, 70, 70}, 0.7f), det(0, {10, 10, 30, 30}, 0.6f)}}};
}

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("detlab_pr_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("per-class AP table in markdown and CSV", "[eval][pr]") {
  Dataset gt;
  DetectionSet dets;
  two_class_case(gt, dets);
  EvalOptions o;
  o.threads = 1;
  const Evaluation e = evaluate(gt, dets, o);
  const std::string md = format_class_ap_table(e, TableFormat::kMarkdown);
  CHECK(md.find("| class | gt | AP | AP50 | VOC07 AP | VOC12 AP |") == 0);
  CHECK(md.find("| traffic light | 1 | 1.0000 | 1.0000 | 1.0000 | 1.0000 |") != std::string::npos);
  CHECK(md.find("| dog | 0 | n/a | n/a | n/a | n/a |") != std::string::npos);
  const std::string csv = format_class_ap_table(e, TableFormat::kCsv);
  CHECK(csv.find("dog,0,,,,\n") != std::string::npos);
  // cat: TP .9, FP .7, TP .6 over 2 gt: VOC12 = .5 * 1 + .5 * 2/3.
  CHECK(csv.find("cat,2,") == csv.find('\n') + 1);
  CHECK(e.voc12->classes[0].ap == Approx(0.5 + 0.5 * 2 / 3.0).epsilon(1e-15));
}

TEST_CASE("PR curves: one CSV per class with safe names", "[eval][pr]") {
  Dataset gt;
  DetectionSet dets;
  two_class_case(gt, dets);
  VocOptions o;
  o.threads = 1;
  const VocResult r = evaluate_voc(gt, dets, o);
  const fs::path dir = temp_dir();
  const auto files = write_pr_curves(dir / "pr", r, gt.class_names);
  REQUIRE(files.size() == 3);
  CHECK(files[1].filename() == "traffic_light.csv");
  CHECK(read_file(files[0]) ==
        "rank,score,recall,precision,interpolated_precision\n"
        "1,0.899999976,0.5,1,1\n"
        "2,0.699999988,0.5,0.5,0.666666667\n"
        "3,0.600000024,1,0.666666667,0.666666667\n");
  CHECK(read_file(files[2]) == "rank,score,recall,precision,interpolated_precision\n");
  fs::remove_all(dir);
}

TEST_CASE("evaluate_and_report prints the summary and writes every requested file", "[eval][report]") {
  Dataset gt;
  DetectionSet dets;
  two_class_case(gt, dets);
  const fs::path dir = temp_dir();
  ReportOptions o;
  o.eval.threads = 1;
  o.metrics_json = dir / "metrics.json";
  o.pr_dir = dir / "pr";
  o.table = dir / "table.md";
  o.table_csv = dir / "table.csv";
  o.confusion_csv = dir / "confusion.csv";
  o.tide = true;
  o.tide_file = dir / "tide.txt";
  o.ms_per_image = 4.0;
  const Report r = evaluate_and_report(gt, dets, o);
  CHECK(r.text.find("Average Precision  (AP) @[ IoU=0.50:0.95") != std::string::npos);
  CHECK(r.text.find("TIDE") != std::string::npos);
  CHECK(fs::exists(dir / "metrics.json"));
  CHECK(fs::exists(dir / "pr" / "cat.csv"));
  CHECK(fs::exists(dir / "pr" / "coco_iou0.50.csv"));
  CHECK(fs::exists(dir / "pr" / "coco_iou0.95.csv"));
  CHECK(read_file(dir / "table.md").find("| class | gt | AP | AP50") == 0);
  CHECK(read_file(dir / "table.csv").find("class,gt,AP,AP50") == 0);
  CHECK(read_file(dir / "confusion.csv").find("gt\\pred,cat,traffic light,dog,background") == 0);
  CHECK(r.text.find(read_file(dir / "tide.txt")) != std::string::npos);
  CHECK(read_metrics_json(dir / "metrics.json").ms_per_image == 4.0);
  CHECK(r.evaluation.metrics.ms_per_image == 4.0);
  fs::remove_all(dir);
}

TEST_CASE("COCO precision-recall files hold pycocotools' precision and score arrays", "[eval][report]") {
  Dataset gt;
  DetectionSet dets;
  two_class_case(gt, dets);
  CocoEvalOptions o;
  o.threads = 1;
  o.iou_thresholds = {0.5, 0.75};
  const CocoEvalResult r = evaluate_coco(gt, dets, o);
  const fs::path dir = temp_dir();
  const auto files = write_coco_pr_curves(dir, r, gt.class_names);
  REQUIRE(files.size() == 2);
  CHECK(files[0].filename() == "coco_iou0.50.csv");
  CHECK(files[1].filename() == "coco_iou0.75.csv");
  // Rows: header, then 101 per class with ground truth (dog has none), in label order; "traffic light" quoted
  // only if it needed it (it does not: no comma).
  std::istringstream in(read_file(files[0]));
  std::string line;
  std::getline(in, line);
  CHECK(line == "class,recall,precision,score");
  std::vector<std::string> rows;
  while (std::getline(in, line)) rows.push_back(line);
  REQUIRE(rows.size() == 2 * 101);
  // cat at IoU .5: .9 TP, .7 FP, .6 TP over 2 gt -> recall .5 .5 1, precision 1 .5 .667, envelope 1 .667 .667;
  // a recall threshold takes the first rank reaching it (searchsorted left). traffic light: one TP at .8.
  CHECK(rows[0] == "cat,0,1,0.899999976");
  CHECK(rows[50] == "cat,0.5,1,0.899999976");
  CHECK(rows[51] == "cat,0.51,0.666666667,0.600000024");
  CHECK(rows[100] == "cat,1,0.666666667,0.600000024");
  CHECK(rows[101] == "traffic light,0,1,0.800000012");
  CHECK(rows[201] == "traffic light,1,1,0.800000012");
  fs::remove_all(dir);
}
