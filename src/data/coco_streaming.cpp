// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// read_coco's streaming path: a JsonScanner pass over the mapped file into a CocoRawFile, then the assembly
// both readers share (coco_raw.h); it gives up on anything the checked reader (coco.cpp) would refuse.
#include "data/coco_streaming.h"

#include "core/error.h"
#include "core/mapped_file.h"
#include "data/coco_raw.h"
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

void scan_categories(JsonScanner& s, CocoRawFile& raw) {
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

void scan_images(JsonScanner& s, CocoRawFile& raw) {
  raw.has_images = true;
  raw.images.clear();
  std::string key;
  s.begin_array();
  while (s.next_element()) {
    require(s.peek() == Kind::kObject);
    s.begin_object();
    CocoRawImage r;
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

void scan_annotations(JsonScanner& s, CocoRawFile& raw) {
  raw.annotations.clear();
  std::string key;
  s.begin_array();
  while (s.next_element()) {
    require(s.peek() == Kind::kObject);
    s.begin_object();
    CocoRawAnnotation a;
    bool has_image_id = false, has_category_id = false, has_bbox = false;
    while (s.next_key(key)) {
      if (key == "image_id") {
        a.image_id = s.read_int64();
        has_image_id = true;
      } else if (key == "category_id") {
        a.category_id = s.read_int64();
        has_category_id = true;
      } else if (key == "bbox") {
        s.begin_array();
        int n = 0;
        while (s.next_element()) {
          require(n < 4);
          a.bbox[n++] = s.read_double();
        }
        require(n == 4);
        has_bbox = true;
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
    require(has_image_id && has_category_id && has_bbox);
    raw.annotations.push_back(a);
  }
}

void scan_splits(JsonScanner& s, CocoRawFile& raw) {
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

CocoRawFile scan_file(const fs::path& json_file) {
  const MappedFile bytes(json_file);
  JsonScanner s(bytes.begin(), bytes.end());
  CocoRawFile raw;
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

}  // namespace

std::optional<Dataset> read_coco_streaming(const fs::path& json_file, const fs::path& image_root,
                                           const ReadOptions& opts, std::vector<std::string>& warnings) {
  warnings.clear();
  try {
    CocoRawFile raw = scan_file(json_file);
    return assemble_coco(raw, json_file, image_root, opts, warnings);
  } catch (const JsonScanFailed&) {
  } catch (const InputError&) {
  }
  warnings.clear();
  return std::nullopt;
}

}  // namespace detlab::detail
