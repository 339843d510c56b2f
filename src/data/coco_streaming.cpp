// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// read_coco's streaming path: a JsonScanner pass over the mapped file, then the same assembly as the checked
// reader (coco.cpp), giving up on anything that reader would refuse or treat specially.
#include "data/coco_streaming.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "core/mapped_file.h"
#include "data/format_util.h"
#include "data/json_scan.h"

namespace detlab::detail {

namespace fs = std::filesystem;

namespace {

using Kind = JsonScanner::Kind;

/// A COCO flag: true / false or 0 / 1 (json_flag), else JsonScanFailed.
bool scan_flag(JsonScanner& s) {
  if (s.peek() == Kind::kBoolean) return s.read_bool();
  const int64_t v = s.read_int64();
  if (v != 0 && v != 1) throw JsonScanFailed{};
  return v == 1;
}

void require(bool ok) {
  if (!ok) throw JsonScanFailed{};
}

struct RawImage {
  int64_t id = 0;
  std::string file;
  int64_t width = 0, height = 0;
};

/// One annotation as read; -1 flags are absent. Resolved against images and categories after the pass.
struct RawAnnotation {
  int64_t image_id = 0, category_id = 0, id = 0;
  double bbox[4] = {0, 0, 0, 0};
  double area = 0;
  int8_t crowd = -1, difficult = -1, ignore = -1;
  bool has_image_id = false, has_category_id = false, has_bbox = false, has_area = false, has_id = false;
};

struct RawFile {
  bool has_categories = false, has_images = false;
  std::vector<std::pair<int64_t, std::string>> categories;
  std::vector<RawImage> images;
  std::vector<RawAnnotation> annotations;
  std::string description;  // info.description when it is a string (the last one, as a tree keeps it)
  std::map<std::string, std::vector<int64_t>> splits;
};

void scan_categories(JsonScanner& s, RawFile& raw) {
  raw.has_categories = true;
  raw.categories.clear();
  std::string key;
  s.begin_array();
  while (s.next_element()) {
    require(s.peek() == Kind::kObject);
    s.begin_object();
    std::pair<int64_t, std::string> cat;
    bool has_id = false, has_name = false;
    while (s.next_key(key)) {
      if (key == "id") {
        cat.first = s.read_int64();
        has_id = true;
      } else if (key == "name") {
        require(s.peek() == Kind::kString);
        s.read_string(cat.second);
        has_name = true;
      } else {
        s.skip_value();
      }
    }
    require(has_id && has_name);
    raw.categories.push_back(std::move(cat));
  }
}

void scan_images(JsonScanner& s, RawFile& raw) {
  raw.has_images = true;
  raw.images.clear();
  std::string key;
  s.begin_array();
  while (s.next_element()) {
    require(s.peek() == Kind::kObject);
    s.begin_object();
    RawImage r;
    bool has_id = false, has_file = false;
    while (s.next_key(key)) {
      if (key == "id") {
        r.id = s.read_int64();
        has_id = true;
      } else if (key == "file_name") {
        require(s.peek() == Kind::kString);
        s.read_string(r.file);
        has_file = true;
      } else if (key == "width") {
        r.width = s.read_int64();
      } else if (key == "height") {
        r.height = s.read_int64();
      } else {
        s.skip_value();
      }
    }
    require(has_id && has_file);
    raw.images.push_back(std::move(r));
  }
}

void scan_annotations(JsonScanner& s, RawFile& raw) {
  raw.annotations.clear();
  std::string key;
  s.begin_array();
  while (s.next_element()) {
    require(s.peek() == Kind::kObject);
    s.begin_object();
    RawAnnotation a;
    while (s.next_key(key)) {
      if (key == "image_id") {
        a.image_id = s.read_int64();
        a.has_image_id = true;
      } else if (key == "category_id") {
        a.category_id = s.read_int64();
        a.has_category_id = true;
      } else if (key == "bbox") {
        s.begin_array();
        int n = 0;
        while (s.next_element()) {
          require(n < 4);
          a.bbox[n++] = s.read_double();
        }
        require(n == 4);
        a.has_bbox = true;
      } else if (key == "iscrowd") {
        a.crowd = scan_flag(s);
      } else if (key == "difficult") {
        a.difficult = scan_flag(s);
      } else if (key == "ignore") {
        a.ignore = scan_flag(s);
      } else if (key == "area") {
        a.area = s.read_double();
        a.has_area = true;
      } else if (key == "id") {
        a.id = s.read_int64();
        a.has_id = true;
      } else {
        s.skip_value();  // segmentation polygons / RLE: the bulk of a COCO file
      }
    }
    require(a.has_image_id && a.has_category_id && a.has_bbox);
    raw.annotations.push_back(a);
  }
}

void scan_splits(JsonScanner& s, RawFile& raw) {
  raw.splits.clear();
  std::string name;
  s.begin_object();
  while (s.next_key(name)) {
    std::vector<int64_t>& ids = raw.splits[name];
    ids.clear();
    s.begin_array();
    while (s.next_element()) ids.push_back(s.read_int64());
  }
}

RawFile scan_file(const fs::path& json_file) {
  const MappedFile bytes(json_file);
  JsonScanner s(bytes.begin(), bytes.end());
  RawFile raw;
  std::string key;
  s.begin_object();
  while (s.next_key(key)) {
    const Kind kind = s.peek();
    if (key == "categories") {
      require(kind == Kind::kArray);
      scan_categories(s, raw);
    } else if (key == "images") {
      require(kind == Kind::kArray);
      scan_images(s, raw);
    } else if (key == "annotations") {
      require(kind == Kind::kArray);
      scan_annotations(s, raw);
    } else if (key == "splits") {
      require(kind == Kind::kObject);
      scan_splits(s, raw);
    } else if (key == "info" && kind == Kind::kObject) {
      raw.description.clear();
      std::string field;
      s.begin_object();
      while (s.next_key(field)) {
        if (field == "description" && s.peek() == Kind::kString) {
          s.read_string(raw.description);
        } else {
          if (field == "description") raw.description.clear();
          s.skip_value();
        }
      }
    } else {
      if (key == "info") raw.description.clear();
      s.skip_value();
    }
  }
  require(s.at_end());
  return raw;
}

/// The checked reader's assembly (coco.cpp read_coco_checked) on the scanned fields; JsonScanFailed (or an
/// InputError from the shared checks) wherever that reader would throw.
Dataset assemble(RawFile& raw, const fs::path& json_file, const fs::path& image_root, const ReadOptions& opts,
                 std::vector<std::string>& warnings) {
  const std::string f = json_file.string();
  require(raw.has_categories && raw.has_images);
  for (size_t k = 0; k < raw.categories.size(); ++k)
    for (size_t o = 0; o < k; ++o) require(raw.categories[o].first != raw.categories[k].first);
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
    RawImage& in = raw.images[k];
    const std::string field = "images[" + std::to_string(k) + "]";
    check_relative_path(in.file, f, field + ".file_name");
    check_image_size(in.width, in.height, f, field);
    ImageRecord r;
    r.id = in.id;
    r.name = file_stem(in.file);
    r.file = std::move(in.file);
    r.width = static_cast<int>(in.width);
    r.height = static_cast<int>(in.height);
    require(index_of_id.emplace(r.id, static_cast<int>(ds.images.size())).second);
    ds.images.push_back(std::move(r));
  }

  for (size_t k = 0; k < raw.annotations.size(); ++k) {
    const RawAnnotation& a = raw.annotations[k];
    const auto img = index_of_id.find(a.image_id);
    require(img != index_of_id.end());
    const auto label = cats.label_of_id.find(a.category_id);
    require(label != cats.label_of_id.end());
    Object o;
    o.box = Box{static_cast<float>(a.bbox[0]), static_cast<float>(a.bbox[1]), static_cast<float>(a.bbox[0] + a.bbox[2]),
                static_cast<float>(a.bbox[1] + a.bbox[3])};
    if (a.crowd >= 0) o.crowd = a.crowd == 1;
    if (a.difficult >= 0) o.difficult = a.difficult == 1;
    else if (a.ignore >= 0) o.difficult = a.ignore == 1;
    if (a.has_area) {
      require(a.area >= 0);
      o.area = static_cast<float>(a.area);
    }
    if (a.has_id) o.id = a.id;
    // accept_box (format_util.h) without printing: its refusals are the checked reader's to report.
    require(std::isfinite(o.box.x1) && std::isfinite(o.box.y1) && std::isfinite(o.box.x2) && std::isfinite(o.box.y2));
    require(o.box.x2 >= o.box.x1 && o.box.y2 >= o.box.y1);
    if (!(o.box.width() > 0.f && o.box.height() > 0.f)) {
      require(opts.drop_empty_boxes);
      warnings.push_back("warning: " + f + ": annotations[" + std::to_string(k) +
                         "].bbox: dropping a box with zero width or height\n");
      continue;
    }
    o.label = label->second;
    if (o.label < 0) continue;
    ds.images[static_cast<size_t>(img->second)].objects.push_back(o);
  }

  for (const auto& [name, ids] : raw.splits) {
    std::vector<int> idx;
    for (int64_t id : ids) {
      const auto it = index_of_id.find(id);
      require(it != index_of_id.end());
      idx.push_back(it->second);
    }
    std::sort(idx.begin(), idx.end());
    ds.splits[name] = idx;
  }
  return ds;
}

}  // namespace

std::optional<Dataset> read_coco_streaming(const fs::path& json_file, const fs::path& image_root,
                                           const ReadOptions& opts, std::vector<std::string>& warnings) {
  warnings.clear();
  try {
    RawFile raw = scan_file(json_file);
    return assemble(raw, json_file, image_root, opts, warnings);
  } catch (const JsonScanFailed&) {
  } catch (const InputError&) {
  }
  warnings.clear();
  return std::nullopt;
}

}  // namespace detlab::detail
