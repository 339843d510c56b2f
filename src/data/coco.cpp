// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// COCO instances JSON (read and write), with detlab's `difficult` and `splits` extensions: the checked reader
// (a document tree) behind the streaming one (coco_streaming.cpp).
#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/coco_streaming.h"
#include "data/format_util.h"
#include "data/formats.h"
#include "data/json_util.h"

namespace detlab {

namespace fs = std::filesystem;
using nlohmann::json;
using detail::json_get;
using detail::json_number;

namespace {

using detail::CategoryMap;

CategoryMap read_categories(const json& j, const std::string& f, const ReadOptions& opts) {
  const json& cats = json_get(j, "categories", detail::JsonKind::kArray, f, "categories");
  std::vector<std::pair<int64_t, std::string>> file_cats;
  for (size_t k = 0; k < cats.size(); ++k) {
    const std::string field = "categories[" + std::to_string(k) + "]";
    const int64_t id = json_get(cats[k], "id", detail::JsonKind::kInteger, f, field + ".id").get<int64_t>();
    const std::string name = json_get(cats[k], "name", detail::JsonKind::kString, f, field + ".name").get<std::string>();
    for (const auto& [other_id, other_name] : file_cats)
      if (other_id == id) throw InputError(f, field + ".id", "duplicate category id " + std::to_string(id));
    file_cats.emplace_back(id, name);
  }
  return detail::map_categories(file_cats, f, opts);
}

}  // namespace

namespace detail {

CategoryMap map_categories(const std::vector<std::pair<int64_t, std::string>>& file_cats, const std::string& f,
                           const ReadOptions& opts) {
  CategoryMap m;
  if (opts.classes.empty()) {
    for (const auto& [id, name] : file_cats) {
      m.label_of_id[id] = static_cast<int>(m.names.size());
      m.names.push_back(name);
      m.ids.push_back(id);
    }
    return m;
  }
  detail::ClassTable table(opts.classes, true, true);
  m.names = opts.classes;
  m.ids.assign(opts.classes.size(), 0);
  std::vector<bool> assigned(opts.classes.size(), false);
  int64_t next_free = 1;
  for (const auto& c : file_cats) next_free = std::max(next_free, c.first + 1);
  for (const auto& [id, name] : file_cats) {
    const int label = table.label(name, f, "categories");
    m.label_of_id[id] = label;
    if (label >= 0 && !assigned[label]) m.ids[label] = id, assigned[label] = true;
  }
  for (size_t k = 0; k < m.ids.size(); ++k)
    if (!assigned[k]) m.ids[k] = next_free++;  // a requested class the file does not define
  return m;
}

}  // namespace detail

namespace detail {

Dataset read_coco_checked(const fs::path& json_file, const fs::path& image_root, const ReadOptions& opts) {
  const std::string f = json_file.string();
  const json j = detail::parse_json_file(json_file);
  if (!j.is_object()) throw InputError(f, "", "expected a JSON object at the top level");
  const CategoryMap cats = read_categories(j, f, opts);

  Dataset ds;
  ds.format = "coco";
  ds.root = image_root.empty() ? json_file.parent_path() : image_root;
  ds.name = json_file.stem().string();
  if (j.contains("info") && j["info"].is_object() && j["info"].contains("description") &&
      j["info"]["description"].is_string() && !j["info"]["description"].get<std::string>().empty())
    ds.name = j["info"]["description"].get<std::string>();
  ds.class_names = cats.names;
  ds.category_ids = cats.ids;

  const json& images = json_get(j, "images", detail::JsonKind::kArray, f, "images");
  std::map<int64_t, int> index_of_id;
  for (size_t k = 0; k < images.size(); ++k) {
    const std::string field = "images[" + std::to_string(k) + "]";
    ImageRecord r;
    r.id = json_get(images[k], "id", detail::JsonKind::kInteger, f, field + ".id").get<int64_t>();
    r.file = json_get(images[k], "file_name", detail::JsonKind::kString, f, field + ".file_name").get<std::string>();
    detail::check_relative_path(r.file, f, field + ".file_name");
    r.name = detail::file_stem(r.file);
    int64_t width = 0, height = 0;
    if (images[k].contains("width"))
      width = json_get(images[k], "width", detail::JsonKind::kInteger, f, field + ".width").get<int64_t>();
    if (images[k].contains("height"))
      height = json_get(images[k], "height", detail::JsonKind::kInteger, f, field + ".height").get<int64_t>();
    detail::check_image_size(width, height, f, field);
    r.width = static_cast<int>(width);
    r.height = static_cast<int>(height);
    if (!index_of_id.emplace(r.id, static_cast<int>(ds.images.size())).second)
      throw InputError(f, field + ".id", "duplicate image id " + std::to_string(r.id));
    ds.images.push_back(std::move(r));
  }

  if (j.contains("annotations")) {
    const json& anns = json_get(j, "annotations", detail::JsonKind::kArray, f, "annotations");
    for (size_t k = 0; k < anns.size(); ++k) {
      const json& a = anns[k];
      const std::string field = "annotations[" + std::to_string(k) + "]";
      const int64_t image_id = json_get(a, "image_id", detail::JsonKind::kInteger, f, field + ".image_id").get<int64_t>();
      auto img = index_of_id.find(image_id);
      if (img == index_of_id.end())
        throw InputError(f, field + ".image_id", "unknown image id " + std::to_string(image_id));
      const int64_t cat = json_get(a, "category_id", detail::JsonKind::kInteger, f, field + ".category_id").get<int64_t>();
      auto label = cats.label_of_id.find(cat);
      if (label == cats.label_of_id.end())
        throw InputError(f, field + ".category_id", "unknown category id " + std::to_string(cat));
      const json& bbox = json_get(a, "bbox", detail::JsonKind::kArray, f, field + ".bbox");
      if (bbox.size() != 4) throw InputError(f, field + ".bbox", "expected [x, y, width, height]");
      double v[4];
      for (int c = 0; c < 4; ++c) v[c] = json_number(bbox[c], f, field + ".bbox");
      Object o;
      // x + w in double: recovers x2 exactly from what write_coco wrote (w = double(x2) - double(x1)).
      o.box = Box{static_cast<float>(v[0]), static_cast<float>(v[1]), static_cast<float>(v[0] + v[2]),
                  static_cast<float>(v[1] + v[3])};
      if (a.contains("iscrowd")) o.crowd = detail::json_flag(a["iscrowd"], f, field + ".iscrowd");
      if (a.contains("difficult")) o.difficult = detail::json_flag(a["difficult"], f, field + ".difficult");
      else if (a.contains("ignore")) o.difficult = detail::json_flag(a["ignore"], f, field + ".ignore");
      if (a.contains("area")) {
        const double area = json_number(a["area"], f, field + ".area");
        if (area < 0) throw InputError(f, field + ".area", "negative area");
        o.area = static_cast<float>(area);
      }
      if (a.contains("id")) o.id = json_get(a, "id", detail::JsonKind::kInteger, f, field + ".id").get<int64_t>();
      if (!detail::accept_box(o.box, f, field + ".bbox", opts)) continue;
      o.label = label->second;
      if (o.label < 0) continue;
      ds.images[img->second].objects.push_back(o);
    }
  }

  if (j.contains("splits")) {  // detlab extension written by write_coco
    const json& splits = json_get(j, "splits", detail::JsonKind::kObject, f, "splits");
    for (const auto& [name, ids] : splits.items()) {
      if (!ids.is_array()) throw InputError(f, "splits." + name, "expected an array of image ids");
      std::vector<int> idx;
      for (const json& id : ids) {
        if (!id.is_number_integer()) throw InputError(f, "splits." + name, "expected an array of image ids");
        auto it = index_of_id.find(id.get<int64_t>());
        if (it == index_of_id.end())
          throw InputError(f, "splits." + name, "unknown image id " + std::to_string(id.get<int64_t>()));
        idx.push_back(it->second);
      }
      std::sort(idx.begin(), idx.end());
      ds.splits[name] = idx;
    }
  }
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
