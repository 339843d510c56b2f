// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Readers and writers of the on-disk dataset formats: VOC XML, COCO instances JSON, YOLO txt, dlib imglab XML.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace detlab {

struct ReadOptions {
  /// Class names in label order. Empty: the dataset's own list (COCO categories, YOLO names file,
  /// VOC `classes.txt` in the root), else the order of first appearance over the sorted annotation files.
  std::vector<std::string> classes;
  /// Objects with zero width or height are dropped with a warning on stderr instead of being an error
  /// (BCCD has two such annotations).
  bool drop_empty_boxes = true;
};

/// VOC folder: Annotations/*.xml, JPEGImages/, ImageSets/Main/<split>.txt. XML coordinates are 1-based and
/// inclusive: (xmin - 1, ymin - 1, xmax, ymax) in continuous coordinates.
Dataset read_voc(const std::filesystem::path& root, const ReadOptions& opts = {});
/// Writes Annotations/, ImageSets/Main/<split>.txt and copies (or links) images into JPEGImages/.
void write_voc(const Dataset& ds, const std::filesystem::path& out_root);

/// COCO instances JSON; image files are resolved against image_root (default: the JSON's folder).
/// Reads `iscrowd`, `area`, and the detlab extension `difficult` (written by write_coco).
Dataset read_coco(const std::filesystem::path& json_file, const std::filesystem::path& image_root = {},
                  const ReadOptions& opts = {});
/// Writes COCO instances JSON (bbox [x, y, w, h], area, iscrowd, plus `difficult` for VOC-derived data).
void write_coco(const Dataset& ds, const std::filesystem::path& json_file);

/// YOLO / darknet layout: obj.names (or classes.txt), one <stem>.txt per image with normalized
/// "class cx cy w h" lines, and a list file of image paths.
Dataset read_yolo(const std::filesystem::path& root, const ReadOptions& opts = {});
void write_yolo(const Dataset& ds, const std::filesystem::path& out_root);

/// dlib imglab XML (<image file=...><box top left width height [ignore]><label>...</label></box>).
Dataset read_dlib_xml(const std::filesystem::path& xml_file, const ReadOptions& opts = {});
void write_dlib_xml(const Dataset& ds, const std::filesystem::path& xml_file);

/// Detects the format of `path` ("voc" folder, "coco" .json, "yolo" folder, "dlib" .xml) and reads it.
/// format = "auto" or one of those names.
Dataset read_dataset(const std::filesystem::path& path, const std::string& format = "auto",
                     const ReadOptions& opts = {});

}  // namespace detlab
