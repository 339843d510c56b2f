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
  /// With `classes` set: objects of other classes are dropped (a person-only detector trained on VOC)
  /// instead of being an InputError.
  bool skip_other_classes = false;
  /// Read only this split (VOC ImageSets/Main/<split>.txt, YOLO list file, sidecar splits); empty: all
  /// images. InputError naming the expected split file when it does not exist. Image ids stay those of the
  /// whole dataset.
  std::string split;
  /// Folder of the images: YOLO looks there (by listed path, then by stem; see read_yolo); read_dataset
  /// passes it to read_coco as its image_root. Empty: the format's default.
  std::filesystem::path image_root;
};

/// VOC folder: Annotations/*.xml, JPEGImages/, ImageSets/Main/<split>.txt. XML coordinates are 1-based and
/// inclusive: (xmin - 1, ymin - 1, xmax, ymax) in continuous coordinates.
Dataset read_voc(const std::filesystem::path& root, const ReadOptions& opts = {});
/// Writes Annotations/, ImageSets/Main/<split>.txt and copies images into JPEGImages/ (in-memory images
/// are encoded as PNG). Coordinates are written in the shortest form that reads back to the same float.
/// out_root must not exist or be empty; it appears only when complete.
void write_voc(const Dataset& ds, const std::filesystem::path& out_root);

/// COCO instances JSON; image files are resolved against image_root (default: the JSON's folder).
/// Reads `iscrowd`, `area`, and the detlab extension `difficult` (written by write_coco; `ignore`, as some
/// VOC-to-COCO converters write it, counts as difficult too). Keeps image ids, category ids and the order
/// of `categories`. NaN / Infinity are not JSON and give an InputError naming the key before them.
Dataset read_coco(const std::filesystem::path& json_file, const std::filesystem::path& image_root = {},
                  const ReadOptions& opts = {});
/// Writes COCO instances JSON (bbox [x, y, w, h], area, iscrowd, plus `difficult` for VOC-derived data).
/// file_name is Dataset::images[i].file (relative to ds.root); the detlab extension "splits"
/// ({"train": [image ids], ...}) keeps the splits. Written atomically.
void write_coco(const Dataset& ds, const std::filesystem::path& json_file);

/// YOLO / darknet layout (as CVAT exports it): obj.names (or classes.txt), obj.data, list files of image
/// paths (train.txt, ...; paths start with "data/", darknet's name for this folder) and one <stem>.txt per
/// image with normalized "class cx cy w h" lines in obj_<split>_data/ (or labels/).
///
/// Image lookup, first hit wins, for a listed path "data/P" with stem S:
///   with opts.image_root: image_root/P, image_root/basename(P), image_root/S.{jpg,jpeg,png,bmp};
///   otherwise: root/P, S.* next to the label file, root/{images,JPEGImages}/S.*, and the sibling folders
///   root/../{JPEGImages,images}/S.* (the voc2012-sample layout: yolo/ beside JPEGImages/).
/// Dataset::root is image_root, else root when every image lies inside it, else root's parent.
/// YOLO stores neither image sizes nor difficult / crowd flags: write_yolo adds the sidecar `detlab.json`
/// (sizes, flags, ids, splits); without it sizes come from the image headers and splits from the list files
/// (train.txt -> "train", valid.txt / val.txt -> "val", test.txt -> "test").
Dataset read_yolo(const std::filesystem::path& root, const ReadOptions& opts = {});
/// Writes obj.names, obj.data, <split>.txt list files (train.txt with every image when there are no
/// splits), obj_train_data/<stem>.txt labels next to copies of the images, and detlab.json.
void write_yolo(const Dataset& ds, const std::filesystem::path& out_root);

/// dlib imglab XML (<image file=...><box top left width height [ignore]><label>...</label></box>).
/// dlib rectangles are inclusive (right = left + width - 1), so the box covers the pixels
/// [left, left + width) x [top, top + height): Box{left, top, left + width, top + height}. The writer rounds
/// to whole pixels (imglab stores integers), so integer boxes round-trip exactly. `ignore='1'` <-> difficult.
/// Boxes without a <label> get the class "object" (and a single-class "object" dataset is written without
/// labels). Image paths are relative to the XML file's folder (Dataset::root).
Dataset read_dlib_xml(const std::filesystem::path& xml_file, const ReadOptions& opts = {});
/// Image paths are written as Dataset::images[i].file, i.e. relative to ds.root: put the XML in ds.root.
void write_dlib_xml(const Dataset& ds, const std::filesystem::path& xml_file);

/// Detects the format of `path` ("voc" folder, "coco" .json, "yolo" folder, "dlib" .xml) and reads it.
/// format = "auto" or one of those names.
Dataset read_dataset(const std::filesystem::path& path, const std::string& format = "auto",
                     const ReadOptions& opts = {});

/// The format read_dataset(path, "auto") would use: a folder with Annotations/ is "voc"; a folder with
/// obj.names / obj.data / classes.txt and label files is "yolo"; a .json file (or a folder holding exactly one
/// .json, at its top or in annotations/) is "coco"; an .xml file with a <dataset> root (or a folder holding
/// exactly one such file) is "dlib". InputError naming the path when nothing (or more than one) matches.
std::string detect_format(const std::filesystem::path& path);
/// The file or folder read_dataset reads for `path` in `format` (a folder's single .json / .xml file).
std::filesystem::path resolve_dataset_path(const std::filesystem::path& path, const std::string& format);

/// Writes a self-contained dataset folder in one of the formats (images copied, in-memory images encoded
/// as PNG): "voc" and "yolo" as write_voc / write_yolo; "coco" as out_dir/annotations.json plus the images
/// at their relative paths; "dlib" as out_dir/dataset.xml plus the images. out_dir must not exist or be
/// empty; the folder appears only when complete (built under a temporary name, then renamed).
void write_dataset(const Dataset& ds, const std::filesystem::path& out_dir, const std::string& format);

}  // namespace detlab
