// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// assemble_coco: a read COCO file's fields -> Dataset, the checks of both COCO readers in one place.
#include "data/coco_raw.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/format_util.h"

namespace detlab::detail {

namespace fs = std::filesystem;

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
  ClassTable table(opts.classes, true, true);
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

Dataset assemble_coco(CocoRawFile& raw, const fs::path& json_file, const fs::path& image_root,
                      const ReadOptions& opts, std::vector<std::string>& warnings) {
  const std::string f = json_file.string();
  if (!raw.has_categories) throw InputError(f, "categories", "missing");
  if (!raw.has_images) throw InputError(f, "images", "missing");
  for (size_t k = 0; k < raw.categories.size(); ++k)
    for (size_t o = 0; o < k; ++o)
      if (raw.categories[o].first == raw.categories[k].first)
        throw InputError(f, "categories[" + std::to_string(k) + "].id",
                         "duplicate category id " + std::to_string(raw.categories[k].first));
  const CategoryMap cats = map_categories(raw.categories, f, opts);

  Dataset ds;
  ds.format = "coco";
  ds.root = image_root.empty() ? json_file.parent_path() : image_root;
  ds.name = raw.description.empty() ? json_file.stem().string() : raw.description;
  ds.class_names = cats.names;
  ds.category_ids = cats.ids;

  std::map<int64_t, int> index_of_id;
  ds.images.reserve(raw.images.size());
  for (size_t k = 0; k < raw.images.size(); ++k) {
    CocoRawImage& in = raw.images[k];
    const std::string field = "images[" + std::to_string(k) + "]";
    check_relative_path(in.file, f, field + ".file_name");
    check_image_size(in.width, in.height, f, field);
    ImageRecord r;
    r.id = in.id;
    r.name = file_stem(in.file);
    r.file = std::move(in.file);
    r.width = static_cast<int>(in.width);
    r.height = static_cast<int>(in.height);
    if (!index_of_id.emplace(r.id, static_cast<int>(ds.images.size())).second)
      throw InputError(f, field + ".id", "duplicate image id " + std::to_string(r.id));
    ds.images.push_back(std::move(r));
  }

  // Field names are built only on the way to an error: a train2017 file has 860,000 annotations.
  auto at = [](size_t k, const char* key) { return "annotations[" + std::to_string(k) + "]." + key; };
  for (size_t k = 0; k < raw.annotations.size(); ++k) {
    const CocoRawAnnotation& a = raw.annotations[k];
    const auto img = index_of_id.find(a.image_id);
    if (img == index_of_id.end())
      throw InputError(f, at(k, "image_id"), "unknown image id " + std::to_string(a.image_id));
    const auto label = cats.label_of_id.find(a.category_id);
    if (label == cats.label_of_id.end())
      throw InputError(f, at(k, "category_id"), "unknown category id " + std::to_string(a.category_id));
    Object o;
    // x + w in double: recovers x2 exactly from what write_coco wrote (w = double(x2) - double(x1)).
    o.box = Box{static_cast<float>(a.bbox[0]), static_cast<float>(a.bbox[1]), static_cast<float>(a.bbox[0] + a.bbox[2]),
                static_cast<float>(a.bbox[1] + a.bbox[3])};
    if (a.crowd >= 0) o.crowd = a.crowd == 1;
    if (a.difficult >= 0) o.difficult = a.difficult == 1;
    else if (a.ignore >= 0) o.difficult = a.ignore == 1;
    if (a.has_area) {
      if (a.area < 0) throw InputError(f, at(k, "area"), "negative area");
      o.area = static_cast<float>(a.area);
    }
    if (a.has_id) o.id = a.id;
    const bool plain = std::isfinite(o.box.x1) && std::isfinite(o.box.y1) && std::isfinite(o.box.x2) &&
                       std::isfinite(o.box.y2) && o.box.width() > 0.f && o.box.height() > 0.f;
    if (!plain && !accept_box(o.box, f, at(k, "bbox"), opts, warnings)) continue;
    o.label = label->second;
    if (o.label < 0) continue;
    ds.images[static_cast<size_t>(img->second)].objects.push_back(o);
  }

  for (const auto& [name, ids] : raw.splits) {
    std::vector<int> idx;
    idx.reserve(ids.size());
    for (int64_t id : ids) {
      const auto it = index_of_id.find(id);
      if (it == index_of_id.end()) throw InputError(f, "splits." + name, "unknown image id " + std::to_string(id));
      idx.push_back(it->second);
    }
    std::sort(idx.begin(), idx.end());
    ds.splits[name] = idx;
  }
  return ds;
}

}  // namespace detlab::detail
