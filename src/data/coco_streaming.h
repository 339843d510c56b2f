// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The streaming path of read_coco (internal to data/): one forward pass over the file, no document tree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "data/formats.h"

namespace detlab::detail {

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

/// The checked reader: the whole document as a tree (nlohmann), every field checked with a one-line
/// InputError naming it; the Dataset before finish_dataset. Dropped empty boxes are warned about on stderr.
Dataset read_coco_checked(const std::filesystem::path& json_file, const std::filesystem::path& image_root,
                          const ReadOptions& opts);

/*  The Dataset read_coco builds (before finish_dataset), from one forward pass of a JsonScanner over the
    memory-mapped file: fields are read as they come, unused values (segmentation polygons, licenses) skipped
    while validated, annotations resolved against images and categories after the pass (any key order).
    ensures: the same Dataset as the checked reader on every file it accepts, and nullopt on any file that is
    not plainly valid (a missing or mistyped field, an unknown or duplicate id, a flag outside 0/1, an inverted
    box, a path or size the checks refuse, a number beyond the scanner's range, invalid JSON), so that the
    checked reader then reports it. The warnings it would print (dropped empty boxes) are returned in
    `warnings`, one line each, for the caller to print only when this path is taken. */
std::optional<Dataset> read_coco_streaming(const std::filesystem::path& json_file,
                                           const std::filesystem::path& image_root, const ReadOptions& opts,
                                           std::vector<std::string>& warnings);

}  // namespace detlab::detail
