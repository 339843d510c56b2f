// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The fields of a COCO instances file as read, and their assembly into a Dataset (internal to data/): the one
// assembly behind both readers, the checked one over a document tree (coco.cpp) and the streaming one
// (coco_streaming.cpp), so that they cannot drift apart.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "data/formats.h"

namespace detlab::detail {

struct CocoRawImage {
  int64_t id = 0;
  std::string file;
  int64_t width = 0, height = 0;  // 0 when absent
};

/// One annotation as read; a flag of -1 was absent.
struct CocoRawAnnotation {
  int64_t image_id = 0, category_id = 0, id = 0;
  double bbox[4] = {0, 0, 0, 0};  // x, y, width, height
  double area = 0;
  int8_t crowd = -1, difficult = -1, ignore = -1;
  bool has_area = false, has_id = false;
};

/// What a reader took from the file, each field already of its JSON type; ids not yet resolved.
struct CocoRawFile {
  bool has_categories = false, has_images = false;
  std::vector<std::pair<int64_t, std::string>> categories;  // (id, name) in file order
  std::vector<CocoRawImage> images;
  std::vector<CocoRawAnnotation> annotations;
  std::string description;  // info.description when a string ("" otherwise)
  std::map<std::string, std::vector<int64_t>> splits;
};

/// Categories of a COCO file as labels.
struct CategoryMap {
  std::map<int64_t, int> label_of_id;  // -1: category skipped (ReadOptions::skip_other_classes)
  std::vector<std::string> names;
  std::vector<int64_t> ids;
};

/// The file's (id, name) categories in file order as labels: all of them, or ReadOptions::classes' order with
/// the file's ids (InputError for a class the file names that is not requested, unless skip_other_classes).
CategoryMap map_categories(const std::vector<std::pair<int64_t, std::string>>& file_cats, const std::string& file,
                           const ReadOptions& opts);

/*  The Dataset of a read file (before finish_dataset): categories mapped, images checked (relative paths,
    sizes, unique ids), annotations resolved against them (unknown ids, negative areas, non-finite or inverted
    boxes refused; empty boxes dropped with a warning appended to `warnings` when opts.drop_empty_boxes),
    detlab's `splits` resolved to sorted image indices. Image paths are moved out of `raw`.
    Throws InputError naming the file and the field (e.g. "annotations[3].image_id: unknown image id 9"). */
Dataset assemble_coco(CocoRawFile& raw, const std::filesystem::path& json_file,
                      const std::filesystem::path& image_root, const ReadOptions& opts,
                      std::vector<std::string>& warnings);

}  // namespace detlab::detail
