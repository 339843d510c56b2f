// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Dataset statistics: counts per class and split, COCO size buckets, box size summaries; JSON and table output.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace detlab {

/// min / median / mean / max of a set of values (all 0 when count == 0). The median of an even count is the
/// mean of the two middle values.
struct Summary {
  size_t count = 0;
  double min = 0, median = 0, mean = 0, max = 0;
};
Summary summarize(std::vector<double> values);

struct ClassStats {
  std::string name;
  size_t images = 0;  // images with at least one box of this class
  size_t boxes = 0, difficult = 0, crowd = 0;
};

struct SplitStats {
  size_t images = 0, boxes = 0;
  std::vector<size_t> boxes_per_class;  // index = label
};

/// COCO size buckets by object_area(): small < 32^2, medium < 96^2, large otherwise (pycocotools' areaRng).
struct AreaBuckets {
  size_t small = 0, medium = 0, large = 0;
};

struct DatasetStats {
  std::string name, format;
  size_t images = 0, boxes = 0, difficult = 0, crowd = 0;
  size_t images_without_boxes = 0;
  std::vector<ClassStats> classes;            // index = label
  std::map<std::string, SplitStats> splits;   // same keys as Dataset::splits
  AreaBuckets area;
  Summary box_width, box_height, box_aspect;  // aspect = width / height
  Summary image_width, image_height;          // over images with a known size
};

/// ensures: boxes == sum of classes[k].boxes == area.small + area.medium + area.large.
DatasetStats compute_stats(const Dataset& ds);
/// JSON object (keys as the struct members; splits by name; boxes_per_class by class name).
std::string stats_to_json(const DatasetStats& s, int indent = 2);
/// Readable multi-line table for a terminal.
std::string format_stats(const DatasetStats& s);

}  // namespace detlab
