// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The VOC devkit fixture (tests/data/voc2012-sample/devkit): the expected per-class APs of an independent
// transcription of voc_eval.py on the raw XML, and the fixture's detections re-keyed to any reading of the
// same images.
#pragma once

#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "data/dataset.h"
#include "eval/detections.h"
#include "eval/voc_eval.h"

namespace detlab::testing {

inline std::filesystem::path voc_sample(const std::string& rel = "") {
  return std::filesystem::path(DETLAB_TEST_DATA) / "voc2012-sample" / rel;
}

/// voc_eval_reference.py's output: per protocol ("voc07", "voc12") the AP per class name, and "mAP".
struct DevkitExpected {
  std::map<std::string, std::map<std::string, double>> per_class;
  std::map<std::string, double> map;
};

inline DevkitExpected devkit_expected(const std::string& iou) {  // "50" or "70"
  const nlohmann::json j = nlohmann::json::parse(read_file(voc_sample("devkit/expected_iou" + iou + ".json")));
  DevkitExpected e;
  for (const char* p : {"voc07", "voc12"}) {
    e.per_class[p] = j.at(p).at("per_class").get<std::map<std::string, double>>();
    e.map[p] = j.at(p).at("mAP").get<double>();
  }
  return e;
}

/// Every class AP and the mAP of r equal the reference's to 1e-9.
inline void check_devkit(const VocResult& r, const std::vector<std::string>& class_names, const DevkitExpected& e,
                         const std::string& protocol) {
  REQUIRE(r.classes.size() == class_names.size());
  for (size_t k = 0; k < class_names.size(); ++k) {
    INFO(protocol << " " << class_names[k]);
    CHECK(r.classes[k].ap == Approx(e.per_class.at(protocol).at(class_names[k])).margin(1e-9).epsilon(0));
  }
  CHECK(r.map == Approx(e.map.at(protocol)).margin(1e-9).epsilon(0));
}

/// Detections read against `from` (the COCO results file's ids) re-keyed to `to` by image name and class name.
inline DetectionSet rekey(const DetectionSet& dets, const Dataset& from, const Dataset& to) {
  DetectionSet out;
  for (const ImageDetections& d : dets) {
    const int i = to.find_image_by_name(from.images.at(from.find_image(d.image_id)).name);
    REQUIRE(i >= 0);
    ImageDetections moved{to.images[i].id, {}};
    for (Detection det : d.dets) {
      const std::string& name = from.class_names.at(det.label);
      const auto it = std::find(to.class_names.begin(), to.class_names.end(), name);
      REQUIRE(it != to.class_names.end());
      det.label = static_cast<int>(it - to.class_names.begin());
      moved.dets.push_back(det);
    }
    out.push_back(moved);
  }
  return out;
}

}  // namespace detlab::testing
