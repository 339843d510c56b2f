// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// COCO instances JSON (read and write), with detlab's `difficult` and `splits` extensions: the checked reader
// (a document tree) behind the streaming one (coco_streaming.cpp); both assemble the Dataset in coco_raw.cpp.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/coco_raw.h"
#include "data/coco_streaming.h"
#include "data/format_util.h"
#include "data/formats.h"
#include "data/json_util.h"

namespace detlab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace detail {

Dataset read_coco_checked(const fs::path& json_file, const fs::path& image_root, const ReadOptions& opts) {
  const std::string f = json_file.string();
  const json j = parse_json_file(json_file);
  if (!j.is_object()) throw InputError(f, "", "expected a JSON object at the top level");
  CocoRawFile raw;
  raw.has_categories = raw.has_images = true;

  const json& cats = json_get(j, "categories", JsonKind::kArray, f, "categories");
  for (size_t k = 0; k < cats.size(); ++k) {
    const std::string field = "categories[" + std::to_string(k) + "]";
    raw.categories.emplace_back(json_get(cats[k], "id", JsonKind::kInteger, f, field + ".id").get<int64_t>(),
                                json_get(cats[k], "name", JsonKind::kString, f, field + ".name").get<std::string>());
  }
  if (j.contains("info") && j["info"].is_object() && j["info"].contains("description") &&
      j["info"]["description"].is_string())
    raw.description = j["info"]["description"].get<std::string>();

  const json& images = json_get(j, "images", JsonKind::kArray, f, "images");
  for (size_t k = 0; k < images.size(); ++k) {
    const std::string field = "images[" + std::to_string(k) + "]";
    CocoRawImage r;
    r.id = json_get(images[k], "id", JsonKind::kInteger, f, field + ".id").get<int64_t>();
    r.file = json_get(images[k], "file_name", JsonKind::kString, f, field + ".file_name").get<std::string>();
    if (images[k].contains("width"))
      r.width = json_get(images[k], "width", JsonKind::kInteger, f, field + ".width").get<int64_t>();
    if (images[k].contains("height"))
      r.height = json_get(images[k], "height", JsonKind::kInteger, f, field + ".height").get<int64_t>();
    raw.images.push_back(std::move(r));
  }

  if (j.contains("annotations")) {
    const json& anns = json_get(j, "annotations", JsonKind::kArray, f, "annotations");
    for (size_t k = 0; k < anns.size(); ++k) {
      const json& a = anns[k];
      const std::string field = "annotations[" + std::to_string(k) + "]";
      CocoRawAnnotation r;
      r.image_id = json_get(a, "image_id", JsonKind::kInteger, f, field + ".image_id").get<int64_t>();
      r.category_id = json_get(a, "category_id", JsonKind::kInteger, f, field + ".category_id").get<int64_t>();
      const json& bbox = json_get(a, "bbox", JsonKind::kArray, f, field + ".bbox");
      if (bbox.size() != 4) throw InputError(f, field + ".bbox", "expected [x, y, width, height]");
      for (int c = 0; c < 4; ++c) r.bbox[c] = json_number(bbox[c], f, field + ".bbox");
      if (a.contains("iscrowd")) r.crowd = json_flag(a["iscrowd"], f, field + ".iscrowd");
      if (a.contains("difficult")) r.difficult = json_flag(a["difficult"], f, field + ".difficult");
      else if (a.contains("ignore")) r.ignore = json_flag(a["ignore"], f, field + ".ignore");
      if (a.contains("area")) r.area = json_number(a["area"], f, field + ".area"), r.has_area = true;
      if (a.contains("id")) r.id = json_get(a, "id", JsonKind::kInteger, f, field + ".id").get<int64_t>(), r.has_id = true;
      raw.annotations.push_back(r);
    }
  }

  if (j.contains("splits")) {  // detlab extension written by write_coco
    const json& splits = json_get(j, "splits", JsonKind::kObject, f, "splits");
    for (const auto& [name, ids] : splits.items()) {
      if (!ids.is_array()) throw InputError(f, "splits." + name, "expected an array of image ids");
      std::vector<int64_t>& out = raw.splits[name];
      for (const json& id : ids) {
        if (!id.is_number_integer()) throw InputError(f, "splits." + name, "expected an array of image ids");
        out.push_back(id.get<int64_t>());
      }
    }
  }
  std::vector<std::string> warnings;
  Dataset ds = assemble_coco(raw, json_file, image_root, opts, warnings);
  for (const std::string& w : warnings) std::cerr << w;
  return ds;
}

}  // namespace detail

Dataset read_coco(const fs::path& json_file, const fs::path& image_root, const ReadOptions& opts) {
  // Valid files take the streaming path (a 450 MB train2017 file is never held as a tree); anything it does not
  // accept is read again by the checked reader, whose error names the field.
  std::vector<std::string> warnings;
  std::optional<Dataset> fast = detail::read_coco_streaming(json_file, image_root, opts, warnings);
  Dataset ds = fast ? std::move(*fast) : detail::read_coco_checked(json_file, image_root, opts);
  for (const std::string& w : warnings) std::cerr << w;
  detail::finish_dataset(ds, json_file, opts);
  return ds;
}

void write_coco(const Dataset& ds, const fs::path& json_file) {
  json images = json::array(), annotations = json::array(), categories = json::array();
  for (int k = 0; k < ds.num_classes(); ++k) {
    const int64_t id = k < static_cast<int>(ds.category_ids.size()) ? ds.category_ids[k] : k + 1;
    categories.push_back({{"id", id}, {"name", ds.class_names[k]}, {"supercategory", ""}});
  }
  // Keep the source's annotation ids when they are all set and unique; otherwise number them 1..N.
  std::set<int64_t> ann_ids;
  size_t n_objects = 0;
  for (const ImageRecord& r : ds.images)
    for (const Object& o : r.objects) ++n_objects, ann_ids.insert(o.id);
  const bool keep_ids = ann_ids.size() == n_objects && !ann_ids.count(0);
  std::set<int64_t> image_ids;
  int64_t next_id = 1;
  for (const ImageRecord& r : ds.images) {
    DETLAB_REQUIRE(image_ids.insert(r.id).second, "duplicate image id", r.id);
    images.push_back({{"id", r.id}, {"file_name", r.file}, {"width", r.width}, {"height", r.height}});
    for (const Object& o : r.objects) {
      DETLAB_REQUIRE(o.label >= 0 && o.label < ds.num_classes(), o.label, ds.num_classes());
      const double x1 = o.box.x1, y1 = o.box.y1, w = double(o.box.x2) - x1, h = double(o.box.y2) - y1;
      annotations.push_back({{"id", keep_ids ? o.id : next_id++},
                             {"image_id", r.id},
                             {"category_id", categories[o.label]["id"]},
                             {"bbox", {x1, y1, w, h}},
                             {"area", double(object_area(o))},
                             {"iscrowd", o.crowd ? 1 : 0},
                             {"difficult", o.difficult ? 1 : 0},
                             // the box as a polygon (crowd regions would need RLE: left empty)
                             {"segmentation", o.crowd ? json::array()
                                                      : json::array({{x1, y1, x1, y1 + h, x1 + w, y1 + h, x1 + w, y1}})}});
    }
  }
  json out = {{"info", {{"description", ds.name}, {"version", "1.0"}, {"contributor", "detlab"}}},
              {"licenses", json::array()},
              {"images", images},
              {"annotations", annotations},
              {"categories", categories}};
  if (!ds.splits.empty()) {
    json splits = json::object();
    for (const auto& [name, indices] : ds.splits) {
      json ids = json::array();
      for (int i : indices) ids.push_back(ds.images.at(i).id);
      splits[name] = ids;
    }
    out["splits"] = splits;
  }
  write_file_atomic(json_file, out.dump(1) + "\n");
}

}  // namespace detlab
