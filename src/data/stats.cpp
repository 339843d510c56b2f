// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// compute_stats and its JSON / table renderings.
#include "data/stats.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/box_ops.h"
#include "core/error.h"

namespace detlab {

using json = nlohmann::ordered_json;  // keeps the keys in the order written: counts first

namespace {

// pycocotools' areaRng boundaries for small / medium / large objects.
constexpr float kSmallArea = 32.f * 32.f;
constexpr float kMediumArea = 96.f * 96.f;

json summary_json(const Summary& s) {
  return {{"count", s.count}, {"min", s.min}, {"median", s.median}, {"mean", s.mean}, {"max", s.max}};
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string pad(std::string s, size_t width, bool right = false) {
  if (s.size() >= width) return s + " ";
  return right ? std::string(width - s.size(), ' ') + s + " " : s + std::string(width - s.size(), ' ') + " ";
}

}  // namespace

Summary summarize(std::vector<double> v) {
  Summary s;
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  const size_t m = v.size() / 2;
  s.median = v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
  return s;
}

DatasetStats compute_stats(const Dataset& ds) {
  DatasetStats s;
  s.name = ds.name;
  s.format = ds.format;
  s.images = ds.images.size();
  s.classes.resize(ds.class_names.size());
  for (size_t k = 0; k < ds.class_names.size(); ++k) s.classes[k].name = ds.class_names[k];
  std::vector<double> widths, heights, aspects, img_w, img_h;
  for (const ImageRecord& r : ds.images) {
    if (r.objects.empty()) ++s.images_without_boxes;
    if (r.width > 0 && r.height > 0) img_w.push_back(r.width), img_h.push_back(r.height);
    std::vector<bool> seen(ds.class_names.size(), false);
    for (const Object& o : r.objects) {
      DETLAB_REQUIRE(o.label >= 0 && o.label < ds.num_classes(), o.label, ds.num_classes());
      ClassStats& c = s.classes[o.label];
      ++c.boxes;
      c.difficult += o.difficult;
      c.crowd += o.crowd;
      if (!seen[o.label]) seen[o.label] = true, ++c.images;
      ++s.boxes;
      s.difficult += o.difficult;
      s.crowd += o.crowd;
      const float a = object_area(o);
      ++(a < kSmallArea ? s.area.small : a < kMediumArea ? s.area.medium : s.area.large);
      widths.push_back(o.box.width());
      heights.push_back(o.box.height());
      if (o.box.height() > 0) aspects.push_back(double(o.box.width()) / o.box.height());
    }
  }
  for (const auto& [name, indices] : ds.splits) {
    SplitStats& sp = s.splits[name];
    sp.boxes_per_class.assign(ds.class_names.size(), 0);
    sp.images = indices.size();
    for (int i : indices)
      for (const Object& o : ds.images.at(i).objects) ++sp.boxes, ++sp.boxes_per_class[o.label];
  }
  s.box_width = summarize(widths);
  s.box_height = summarize(heights);
  s.box_aspect = summarize(aspects);
  s.image_width = summarize(img_w);
  s.image_height = summarize(img_h);
  return s;
}

std::string stats_to_json(const DatasetStats& s, int indent) {
  json classes = json::array();
  for (const ClassStats& c : s.classes)
    classes.push_back({{"name", c.name}, {"images", c.images}, {"boxes", c.boxes}, {"difficult", c.difficult}, {"crowd", c.crowd}});
  json splits = json::object();
  for (const auto& [name, sp] : s.splits) {
    json per_class = json::object();
    for (size_t k = 0; k < s.classes.size(); ++k) per_class[s.classes[k].name] = sp.boxes_per_class[k];
    splits[name] = {{"images", sp.images}, {"boxes", sp.boxes}, {"boxes_per_class", per_class}};
  }
  const json j = {{"name", s.name},
                  {"format", s.format},
                  {"images", s.images},
                  {"boxes", s.boxes},
                  {"difficult", s.difficult},
                  {"crowd", s.crowd},
                  {"images_without_boxes", s.images_without_boxes},
                  {"classes", classes},
                  {"splits", splits},
                  {"coco_area", {{"small", s.area.small}, {"medium", s.area.medium}, {"large", s.area.large}}},
                  {"box_width", summary_json(s.box_width)},
                  {"box_height", summary_json(s.box_height)},
                  {"box_aspect", summary_json(s.box_aspect)},
                  {"image_width", summary_json(s.image_width)},
                  {"image_height", summary_json(s.image_height)}};
  return j.dump(indent);
}

std::string format_stats(const DatasetStats& s) {
  std::ostringstream os;
  os << "dataset " << s.name << " (" << s.format << "): " << s.images << " images, " << s.boxes << " boxes ("
     << s.difficult << " difficult, " << s.crowd << " crowd), " << s.classes.size() << " classes, "
     << s.images_without_boxes << " images without boxes\n\n";
  size_t w = 8;
  for (const ClassStats& c : s.classes) w = std::max(w, c.name.size() + 1);
  for (const auto& kv : s.splits) w = std::max(w, kv.first.size() + 1);
  os << pad("class", w) << pad("images", 8, true) << pad("boxes", 8, true) << pad("difficult", 10, true)
     << pad("crowd", 7, true) << "\n";
  for (const ClassStats& c : s.classes)
    os << pad(c.name, w) << pad(std::to_string(c.images), 8, true) << pad(std::to_string(c.boxes), 8, true)
       << pad(std::to_string(c.difficult), 10, true) << pad(std::to_string(c.crowd), 7, true) << "\n";
  os << pad("total", w) << pad(std::to_string(s.images), 8, true) << pad(std::to_string(s.boxes), 8, true)
     << pad(std::to_string(s.difficult), 10, true) << pad(std::to_string(s.crowd), 7, true) << "\n";
  if (!s.splits.empty()) {
    os << "\n" << pad("split", w) << pad("images", 8, true) << pad("boxes", 8, true);
    for (const ClassStats& c : s.classes) os << pad(c.name, std::max<size_t>(6, c.name.size()), true);
    os << "\n";
    for (const auto& [name, sp] : s.splits) {
      os << pad(name, w) << pad(std::to_string(sp.images), 8, true) << pad(std::to_string(sp.boxes), 8, true);
      for (size_t k = 0; k < s.classes.size(); ++k)
        os << pad(std::to_string(sp.boxes_per_class[k]), std::max<size_t>(6, s.classes[k].name.size()), true);
      os << "\n";
    }
  }
  os << "\nCOCO area: small (< 32^2) " << s.area.small << ", medium (< 96^2) " << s.area.medium << ", large "
     << s.area.large << "\n\n";
  os << pad("", 14) << pad("min", 9, true) << pad("median", 9, true) << pad("mean", 9, true) << pad("max", 9, true) << "\n";
  const std::pair<const char*, const Summary*> rows[] = {{"box width", &s.box_width},   {"box height", &s.box_height},
                                                         {"box w/h", &s.box_aspect},    {"image width", &s.image_width},
                                                         {"image height", &s.image_height}};
  for (const auto& [label, sm] : rows)
    os << pad(label, 14) << pad(num(sm->min), 9, true) << pad(num(sm->median), 9, true) << pad(num(sm->mean), 9, true)
       << pad(num(sm->max), 9, true) << "\n";
  return os.str();
}

}  // namespace detlab
