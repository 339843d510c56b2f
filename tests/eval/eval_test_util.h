// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Helpers for the eval tests: tiny datasets built in code, readers of the text fixtures in tests/data/eval.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/detections.h"

namespace detlab::testing {

inline std::filesystem::path eval_data(const std::string& rel) {
  return std::filesystem::path(DETLAB_TEST_DATA) / "eval" / rel;
}

/// A dataset with `num_classes` classes ("c0", "c1", ...; category id = label + 1) and images with the given
/// ids (names "img<id>").
inline Dataset make_dataset(int num_classes, const std::vector<int64_t>& image_ids) {
  Dataset ds;
  ds.name = "test";
  ds.format = "synthetic";
  for (int k = 0; k < num_classes; ++k) {
    ds.class_names.push_back("c" + std::to_string(k));
    ds.category_ids.push_back(k + 1);
  }
  for (int64_t id : image_ids) {
    ImageRecord r;
    r.id = id;
    r.name = "img" + std::to_string(id);
    r.file = r.name + ".jpg";
    ds.images.push_back(r);
  }
  return ds;
}

inline Object object(int label, Box box, bool crowd = false, bool difficult = false, float area = -1.f) {
  Object o;
  o.box = box;
  o.label = label;
  o.crowd = crowd;
  o.difficult = difficult;
  o.area = area;
  return o;
}

inline Detection det(int label, Box box, float score) { return Detection{box, label, score}; }

/// Reads a folder of "<stem>.txt" files with lines "class [score] a b c d"; boxes from (left, top, width,
/// height) when xywh, else (x1, y1, x2, y2). Files sorted by name; image ids 1, 2, ... in that order.
struct TextFixture {
  Dataset gt;
  DetectionSet dets;
};

inline std::vector<std::filesystem::path> sorted_files(const std::filesystem::path& dir, const std::string& ext) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ext) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

inline Box read_box(std::istream& in, bool xywh) {
  double a, b, c, d;
  in >> a >> b >> c >> d;
  // voc-case1's reference converts left/top/width/height with x2 = left + width (then +1 areas).
  return xywh ? Box{float(a), float(b), float(a + c), float(b + d)} : Box{float(a), float(b), float(c), float(d)};
}

/// Ground truth from gts/*.txt ("class a b c d") and detections from dets/*.txt ("class score a b c d").
inline TextFixture read_text_fixture(const std::filesystem::path& root, bool xywh) {
  TextFixture f;
  f.gt = make_dataset(0, {});
  auto label_of = [&](const std::string& name) {
    for (size_t k = 0; k < f.gt.class_names.size(); ++k)
      if (f.gt.class_names[k] == name) return static_cast<int>(k);
    f.gt.class_names.push_back(name);
    f.gt.category_ids.push_back(static_cast<int64_t>(f.gt.class_names.size()));
    return static_cast<int>(f.gt.class_names.size() - 1);
  };
  int64_t id = 0;
  for (const auto& file : sorted_files(root / "gts", ".txt")) {
    ImageRecord r;
    r.id = ++id;
    r.name = file.stem().string();
    r.file = r.name + ".jpg";
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string cls;
      if (!(ls >> cls)) continue;
      const int label = label_of(cls);
      r.objects.push_back(object(label, read_box(ls, xywh)));
    }
    f.gt.images.push_back(r);
  }
  for (const auto& file : sorted_files(root / "dets", ".txt")) {
    const int i = f.gt.find_image_by_name(file.stem().string());
    REQUIRE(i >= 0);
    ImageDetections d{f.gt.images[i].id, {}};
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string cls;
      double score;
      if (!(ls >> cls >> score)) continue;
      d.dets.push_back(det(label_of(cls), read_box(ls, xywh), static_cast<float>(score)));
    }
    f.dets.push_back(d);
  }
  return f;
}

/// Random ground truth and detections that exercise every branch of the COCO matcher: crowd regions, gt with
/// and without an area field, boxes across the area ranges, quantised scores (ties), images without gt or
/// without detections, more than 100 detections in some images, image ids out of order.
inline void random_coco_case(uint32_t seed, int num_images, int num_classes, Dataset& gt, DetectionSet& dets) {
  std::mt19937 rng(seed);
  std::vector<int64_t> ids;
  for (int i = 0; i < num_images; ++i) ids.push_back(1000 - 7 * i);  // descending: evaluation sorts by id
  gt = make_dataset(num_classes, ids);
  dets.clear();
  std::uniform_real_distribution<float> pos(0, 300), size_log(std::log(4.f), std::log(200.f)), jitter(-0.15f, 0.15f);
  std::uniform_int_distribution<int> label(0, num_classes - 1), nobj(0, 8), score_q(0, 20);
  std::bernoulli_distribution crowd(0.08), has_area(0.5), no_gt(0.1), no_det(0.1), many(0.1), matched(0.6);
  for (ImageRecord& img : gt.images) {
    if (!no_gt(rng)) {
      const int n = nobj(rng);
      for (int j = 0; j < n; ++j) {
        const float x = pos(rng), y = pos(rng), w = std::exp(size_log(rng)), h = std::exp(size_log(rng));
        Object o = object(label(rng), {x, y, x + w, y + h}, crowd(rng));
        if (has_area(rng)) o.area = w * h * (0.5f + 0.5f * (score_q(rng) / 20.f));
        img.objects.push_back(o);
      }
    }
    if (no_det(rng)) continue;
    ImageDetections d{img.id, {}};
    const int n = many(rng) ? 130 : nobj(rng) * 3;
    for (int j = 0; j < n; ++j) {
      Box b;
      int l = label(rng);
      if (!img.objects.empty() && matched(rng)) {
        const Object& o = img.objects[std::uniform_int_distribution<size_t>(0, img.objects.size() - 1)(rng)];
        const float w = o.box.width(), h = o.box.height();
        b = {o.box.x1 + jitter(rng) * w, o.box.y1 + jitter(rng) * h, o.box.x2 + jitter(rng) * w, o.box.y2 + jitter(rng) * h};
        if (b.x2 < b.x1) std::swap(b.x1, b.x2);
        if (b.y2 < b.y1) std::swap(b.y1, b.y2);
        if (std::bernoulli_distribution(0.8)(rng)) l = o.label;
      } else {
        const float x = pos(rng), y = pos(rng), w = std::exp(size_log(rng)), h = std::exp(size_log(rng));
        b = {x, y, x + w, y + h};
      }
      d.dets.push_back(det(l, b, score_q(rng) / 20.f));
    }
    dets.push_back(d);
  }
}

}  // namespace detlab::testing
