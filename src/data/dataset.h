// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Dataset: class names, image records with their objects, named splits; images decoded lazily with OpenCV.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "core/types.h"

namespace detlab {

/// One annotated object. Box in continuous pixel coordinates (see core/types.h); label in [0, num_classes).
struct Object {
  Box box;
  int label = -1;
  bool difficult = false;  // VOC "difficult": ignored by the VOC metric (neither TP nor FP)
  bool crowd = false;      // COCO "iscrowd": a region of many objects, matched many-to-one by the COCO metric
  float area = -1.f;       // COCO "area" field (segment area); < 0 when absent, then the box area is used
  int64_t id = 0;          // annotation id from the source (COCO), 0 when the format has none
};

/// One image and its objects.
struct ImageRecord {
  int64_t id = 0;      // numeric id: COCO image_id; other formats: 1-based position in the sorted file list
  std::string name;    // file stem ("BloodImage_00000"), unique within a dataset
  std::string file;    // image path relative to Dataset::root, '/'-separated ("JPEGImages/x.jpg")
  int width = 0;       // pixels; 0 when unknown (read from the image header on demand)
  int height = 0;
  std::vector<Object> objects;
};

/// An object-detection dataset in memory: annotations only; pixels are decoded on demand.
///
/// ensures (for every reader): every object's box is finite with x2 > x1, y2 > y1; every label is in
/// [0, num_classes()); every image file resolves inside root; image names and ids are unique.
/// thread safety: const methods (load_image included) may run concurrently.
struct Dataset {
  std::string name;                             // human-readable ("bccd")
  std::string format;                           // source format: "voc", "coco", "yolo", "dlib" or "synthetic"
  std::filesystem::path root;                   // image files are resolved against it
  std::vector<std::string> class_names;         // index = label
  std::vector<int64_t> category_ids;            // external id per label (COCO category_id; VOC: label + 1)
  std::vector<ImageRecord> images;
  std::map<std::string, std::vector<int>> splits;  // split name -> indices into images (VOC ImageSets/Main)
  std::map<std::string, cv::Mat> memory_images;    // in-memory pixels by image name (synthetic data), optional

  int num_classes() const { return static_cast<int>(class_names.size()); }
  size_t num_objects() const;
  /// root / images[i].file. Throws InputError if the path escapes root (absolute path, "..").
  std::filesystem::path image_path(size_t i) const;
  /// Decoded CV_8UC3 BGR pixels; InputError naming the file when it is missing, unreadable or corrupt.
  cv::Mat load_image(size_t i) const;
  /// Images of one split, keeping ids, classes and root; InputError listing the known splits otherwise.
  Dataset subset(const std::string& split) const;
  /// Images at the given indices (in that order); splits are dropped.
  Dataset subset(const std::vector<int>& indices) const;
  /// Label of an external category id, or -1.
  int label_of_category(int64_t category_id) const;
  /// Index of the image with this id / name, or -1.
  int find_image(int64_t id) const;
  int find_image_by_name(const std::string& name) const;
};

/// Area used by the COCO metric for a ground-truth object: its `area` field, else the box area.
float object_area(const Object& o);

}  // namespace detlab
