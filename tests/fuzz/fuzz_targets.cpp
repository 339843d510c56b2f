// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The fuzz targets (see fuzz_targets.h): each writes the bytes where its reader looks and calls it.
#include "fuzz/fuzz_targets.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "core/error.h"
#include "data/formats.h"
#include "data/image_header.h"
#include "data/coco_streaming.h"
#include "eval/detections.h"
#include "proposals/proposal_file.h"
#include "support/dataset_diff.h"

namespace detlab::fuzz {

namespace fs = std::filesystem;

namespace {

// One scratch folder per process (libFuzzer runs targets in one process; parallel jobs are processes).
const fs::path& scratch() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("detlab_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

void write(const fs::path& file, const uint8_t* data, size_t size) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                               static_cast<std::streamsize>(size));
}

void write(const fs::path& file, const std::string& text) {
  write(file, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// Runs a reader: InputError is the accepted way to refuse input; anything else propagates (a finding).
template <class F>
int run(F&& read) {
  try {
    read();
  } catch (const InputError&) {
  }
  return 0;
}

bool same_detections(const DetectionSet& a, const DetectionSet& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].image_id != b[i].image_id || a[i].dets.size() != b[i].dets.size()) return false;
    for (size_t k = 0; k < a[i].dets.size(); ++k)
      if (!(a[i].dets[k].box == b[i].dets[k].box) || a[i].dets[k].label != b[i].dets[k].label ||
          !(a[i].dets[k].score == b[i].dets[k].score))
        return false;
  }
  return true;
}

// The header of a 1 x 1 PNG (signature, IHDR): the image a YOLO label file points at (only its size is read).
const std::string kPng1x1 = std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90\x77\x53\xde", 33);

}  // namespace

int voc_xml(const uint8_t* data, size_t size) {
  const fs::path root = scratch() / "voc";
  write(root / "Annotations" / "a.xml", data, size);
  return run([&] { read_voc(root); });
}

int dlib_xml(const uint8_t* data, size_t size) {
  write(scratch() / "dlib.xml", data, size);
  return run([&] { read_dlib_xml(scratch() / "dlib.xml"); });
}

int coco_json(const uint8_t* data, size_t size) {
  const fs::path file = scratch() / "instances.json";
  write(file, data, size);
  // The oracle beyond "no crash": whatever the streaming path accepts, the checked path reads the same.
  std::vector<std::string> warnings;
  if (const std::optional<Dataset> streamed = detail::read_coco_streaming(file, {}, {}, warnings)) {
    const Dataset checked = detail::read_coco_checked(file, {}, {});  // an InputError here is a finding too
    if (!testing::dataset_difference(*streamed, checked).empty()) std::abort();
  }
  return run([&] { read_coco(file); });
}

int coco_results(const uint8_t* data, size_t size) {
  static const Dataset gt = [] {
    write(scratch() / "gt.json",
          R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48},)"
          R"( {"id": 7, "file_name": "b.jpg", "width": 32, "height": 32}],)"
          R"( "categories": [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}],)"
          R"( "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 10, 20]}]})");
    return read_coco(scratch() / "gt.json");
  }();
  const fs::path file = scratch() / "results.json";
  write(file, data, size);
  if (const std::optional<DetectionSet> streamed = detail::read_coco_results_streaming(file, gt)) {
    const DetectionSet checked = detail::read_coco_results_checked(file, gt);
    if (!same_detections(*streamed, checked)) std::abort();
  }
  return run([&] { read_coco_results(file, gt); });
}

int proposal_cache(const uint8_t* data, size_t size) {
  const fs::path file = scratch() / "proposals.bin";
  write(file, data, size);
  return run([&] {
    const ProposalCache cache(file);
    for (const std::string& name : cache.names()) cache.boxes(name);
  });
}

int yolo_labels(const uint8_t* data, size_t size) {
  const fs::path root = scratch() / "yolo";
  static const bool ready = [&] {
    write(root / "obj.names", "cat\ndog\n");
    write(root / "train.txt", "obj_train_data/x.png\n");
    write(root / "obj_train_data" / "x.png", kPng1x1);
    return true;
  }();
  (void)ready;
  write(root / "obj_train_data" / "x.txt", data, size);
  return run([&] { read_yolo(root); });
}

int yaml_config(const uint8_t* data, size_t size) {
  const fs::path dir = scratch() / "config";
  static const bool ready = [&] {
    write(dir / "base.yaml", "dataset: {path: data, format: voc}\ndetector: {type: staged, nms: 0.5}\n");
    write(dir / "cycle_a.yaml", "_base_: cycle_b.yaml\n");
    write(dir / "cycle_b.yaml", "_base_: cycle_a.yaml\n");
    write(dir / "deep.yaml", "_base_: base.yaml\nx: {y: [1, 2, {z: 3}]}\n");
    return true;
  }();
  (void)ready;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t eol = text.find('\n');
  const std::string assignment = eol == std::string::npos ? text : text.substr(0, eol);
  const std::string yaml = eol == std::string::npos ? std::string() : text.substr(eol + 1);
  return run([&] {
    Config c = Config::parse(yaml, "fuzz.yaml", dir);
    if (!assignment.empty()) c.set(assignment);
    for (const std::string& k : c.is_map() ? c.keys() : std::vector<std::string>{}) {  // reads of every kind
      const Config child = c.child(k);
      if (child.is_scalar()) {
        (void)child.as<std::string>();
        try {
          (void)child.as<double>();
        } catch (const InputError&) {
        }
      } else if (child.is_sequence()) {
        for (size_t i = 0; i < child.size(); ++i) (void)child.at(i).kind();
      }
    }
  });
}

int image_header(const uint8_t* data, size_t size) {
  write(scratch() / "image.bin", data, size);
  return run([&] { read_image_size(scratch() / "image.bin"); });
}

const std::vector<std::pair<std::string, Target>>& targets() {
  static const std::vector<std::pair<std::string, Target>> all = {
      {"voc_xml", voc_xml},         {"dlib_xml", dlib_xml},       {"coco_json", coco_json},
      {"coco_results", coco_results}, {"yolo_labels", yolo_labels}, {"yaml_config", yaml_config},
      {"proposal_cache", proposal_cache},
      {"image_header", image_header}};
  return all;
}

}  // namespace detlab::fuzz
