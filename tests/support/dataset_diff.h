// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Test support: where two Datasets differ, for the tests and fuzz targets that hold two readers of one file to
// the same result (the streaming and checked COCO readers).
#pragma once

#include <sstream>
#include <string>

#include "data/dataset.h"

namespace detlab::testing {

/// "" when a and b are the same Dataset field for field (boxes and areas bit for bit), else the first field
/// that differs, e.g. "images[3].objects[0].box: (1 2 5 6) vs (1 2 5 7)".
inline std::string dataset_difference(const Dataset& a, const Dataset& b) {
  auto box = [](const Box& x) {
    std::ostringstream s;
    s.precision(9);
    s << "(" << x.x1 << " " << x.y1 << " " << x.x2 << " " << x.y2 << ")";
    return s.str();
  };
  if (a.format != b.format) return "format: " + a.format + " vs " + b.format;
  if (a.root != b.root) return "root: " + a.root.string() + " vs " + b.root.string();
  if (a.name != b.name) return "name: " + a.name + " vs " + b.name;
  if (a.class_names != b.class_names) return "class_names";
  if (a.category_ids != b.category_ids) return "category_ids";
  if (a.splits != b.splits) return "splits";
  if (a.images.size() != b.images.size())
    return "images: " + std::to_string(a.images.size()) + " vs " + std::to_string(b.images.size());
  for (size_t i = 0; i < a.images.size(); ++i) {
    const ImageRecord &x = a.images[i], &y = b.images[i];
    const std::string at = "images[" + std::to_string(i) + "]";
    if (x.id != y.id) return at + ".id";
    if (x.name != y.name) return at + ".name: " + x.name + " vs " + y.name;
    if (x.file != y.file) return at + ".file: " + x.file + " vs " + y.file;
    if (x.width != y.width || x.height != y.height) return at + ".size";
    if (x.objects.size() != y.objects.size())
      return at + ".objects: " + std::to_string(x.objects.size()) + " vs " + std::to_string(y.objects.size());
    for (size_t k = 0; k < x.objects.size(); ++k) {
      const Object &o = x.objects[k], &p = y.objects[k];
      const std::string obj = at + ".objects[" + std::to_string(k) + "]";
      if (!(o.box == p.box)) return obj + ".box: " + box(o.box) + " vs " + box(p.box);
      if (o.label != p.label) return obj + ".label";
      if (o.difficult != p.difficult) return obj + ".difficult";
      if (o.crowd != p.crowd) return obj + ".crowd";
      if (!(o.area == p.area)) return obj + ".area";
      if (o.id != p.id) return obj + ".id";
    }
  }
  return "";
}

}  // namespace detlab::testing
