// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The VOC pixel rule (src/eval/voc_eval.h) on a real multi-class VOC folder: detlab's VOC07 / VOC12 APs equal
// an independent transcription of voc_eval.py run on the raw XML (tests/data/voc2012-sample/devkit), to 1e-9,
// whatever format the ground truth was read from and with the +1 convention where the boxes need it.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "core/atomic_file.h"
#include "data/formats.h"
#include "eval/metrics.h"
#include "eval/voc_devkit_fixture.h"

using namespace detlab;
using namespace detlab::testing;
namespace fs = std::filesystem;

namespace {

VocResult voc(const Dataset& gt, const DetectionSet& dets, bool use_07, double iou, bool plus_one = false) {
  VocOptions o;
  o.use_07_metric = use_07;
  o.iou_threshold = iou;
  o.plus_one = plus_one;
  o.threads = 2;
  return evaluate_voc(gt, dets, o);
}

/// The fixture's continuous detections, keyed to `gt`.
DetectionSet fixture_detections(const Dataset& gt, const std::string& file = "devkit/detections.json") {
  const Dataset coco = read_coco(voc_sample("coco/coco_format_v1/instances_default.json"));
  return rekey(read_coco_results(voc_sample(file), coco), coco, gt);
}

void check_both(const Dataset& gt, const DetectionSet& dets, bool plus_one = false) {
  for (const auto& [iou, name] : {std::pair<double, std::string>{0.5, "50"}, {0.7, "70"}}) {
    INFO("IoU " << iou);
    const DevkitExpected e = devkit_expected(name);
    check_devkit(voc(gt, dets, true, iou, plus_one), gt.class_names, e, "voc07");
    check_devkit(voc(gt, dets, false, iou, plus_one), gt.class_names, e, "voc12");
  }
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("detlab_voc_devkit_" + std::to_string(::getpid()));
  TempDir() { fs::remove_all(path), fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("voc devkit: a VOC folder and continuous detections give voc_eval.py's APs", "[eval][voc][devkit]") {
  const Dataset gt = read_voc(voc_sample());
  REQUIRE(gt.images.size() == 100);
  REQUIRE(gt.num_classes() == 20);
  const DetectionSet dets = fixture_detections(gt);
  REQUIRE(num_detections(dets) == 909);
  check_both(gt, dets);
  // Through the entry point every command uses (evaluate(), both protocols at once, default options).
  EvalOptions o;
  o.protocols = {Protocol::kVoc07, Protocol::kVoc12};
  const Evaluation e = evaluate(gt, dets, o);
  CHECK(e.voc07->map == Approx(devkit_expected("50").map.at("voc07")).margin(1e-9).epsilon(0));
  CHECK(e.voc12->map == Approx(devkit_expected("50").map.at("voc12")).margin(1e-9).epsilon(0));
}

TEST_CASE("voc devkit: the +1 on top of continuous boxes counts a pixel twice and changes the APs",
          "[eval][voc][devkit]") {
  const Dataset gt = read_voc(voc_sample());
  const DetectionSet dets = fixture_detections(gt);
  const DevkitExpected e = devkit_expected("50");
  const VocResult wrong = voc(gt, dets, false, 0.5, /*plus_one=*/true);
  // The fixture's reference run of the wrong convention: car VOC12 0.6152 -> 0.7044, mAP 0.4601 -> 0.4804.
  const int car = static_cast<int>(std::find(gt.class_names.begin(), gt.class_names.end(), "car") - gt.class_names.begin());
  CHECK(e.per_class.at("voc12").at("car") == Approx(0.6152).margin(1e-4));
  CHECK(wrong.classes[car].ap == Approx(0.7044).margin(1e-4));
  CHECK(wrong.map == Approx(0.480409).margin(1e-6));
}

TEST_CASE("voc devkit: ground truth converted to COCO and YOLO by detlab gives the same APs", "[eval][voc][devkit]") {
  const Dataset voc_gt = read_voc(voc_sample());
  TempDir tmp;
  write_coco(voc_gt, tmp.path / "gt.json");
  const Dataset coco_gt = read_coco(tmp.path / "gt.json", voc_sample());
  check_both(coco_gt, fixture_detections(coco_gt));
  write_yolo(voc_gt, tmp.path / "yolo");
  const Dataset yolo_gt = read_yolo(tmp.path / "yolo");
  check_both(yolo_gt, fixture_detections(yolo_gt));
}

TEST_CASE("voc devkit: boxes in the XML's inclusive numbering need the +1 convention", "[eval][voc][devkit]") {
  // instances_default.json keeps the XML's numbers (bbox = [xmin, ymin, xmax - xmin, ymax - ymin]) and has no
  // difficult flags: take those from the XML, as a user of that file with the VOC folder would.
  const Dataset voc_gt = read_voc(voc_sample());
  Dataset gt = read_coco(voc_sample("coco/coco_format_v1/instances_default.json"));
  for (ImageRecord& r : gt.images) {
    const ImageRecord& v = voc_gt.images.at(voc_gt.find_image_by_name(r.name));
    REQUIRE(r.objects.size() == v.objects.size());
    for (Object& o : r.objects) {
      // The same object in the XML: inclusive numbers = continuous box + (1, 1, 0, 0).
      const auto it = std::find_if(v.objects.begin(), v.objects.end(), [&](const Object& x) {
        return x.box.x1 + 1 == o.box.x1 && x.box.y1 + 1 == o.box.y1 && x.box.x2 == o.box.x2 && x.box.y2 == o.box.y2 &&
               voc_gt.class_names[x.label] == gt.class_names[o.label];
      });
      REQUIRE(it != v.objects.end());
      o.difficult = it->difficult;
    }
  }
  const DetectionSet inclusive = read_coco_results(voc_sample("devkit/detections_inclusive.json"), gt);
  check_both(gt, inclusive, /*plus_one=*/true);
  // Without the +1 these boxes are one pixel short on each side: not the devkit's numbers.
  const VocResult plain = voc(gt, inclusive, false, 0.5, false);
  CHECK(std::abs(plain.map - devkit_expected("50").map.at("voc12")) > 1e-3);
}
