// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Detections under evaluation: per-image lists keyed by image id, and the COCO results JSON file format.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "core/types.h"
#include "data/dataset.h"

namespace detlab {

/// The detections of one image. image_id is the ImageRecord::id of the ground-truth Dataset they are scored
/// against; labels are that dataset's labels (0..num_classes-1); boxes use the core convention (no "+1").
struct ImageDetections {
  int64_t image_id = 0;
  Detections dets;
};

/// Detections of a data set. Several entries may share an image id: their detections are concatenated in
/// order. Within an image, that order breaks score ties the way pycocotools' stable sort does (file order).
/// Images without an entry have no detections.
using DetectionSet = std::vector<ImageDetections>;

size_t num_detections(const DetectionSet& dets);

/// Checks that every image id is in gt, every label in [0, gt.num_classes()), every box finite with
/// x2 >= x1, y2 >= y1 and every score finite; throws std::invalid_argument naming the first offender.
/// (Files are validated by read_coco_results with InputError; this guards the library entry points.)
void check_detections(const Dataset& gt, const DetectionSet& dets);

/// The detections regrouped by ground-truth image: out[i] holds those of gt.images[i] in input order.
/// requires: check_detections(gt, dets) passes (it is called).
std::vector<Detections> detections_by_image(const Dataset& gt, const DetectionSet& dets);

/// Reads a COCO results JSON file: a list of {"image_id", "category_id", "bbox": [x, y, w, h], "score"}
/// (other keys are ignored). Category ids map to labels through gt.category_ids.
/// ensures: one entry per gt image that has detections, in gt.images order; file order within an image;
///          box = (x, y, x + w, y + h) with the sum taken in double, then rounded to float.
/// Throws InputError naming the file and the element ("[12].bbox") for: a file that is not a JSON list, a
/// missing or mistyped field, an image id or category id absent from gt, a non-finite bbox or one with
/// negative width or height, a score that is not finite. Any finite score is taken, as pycocotools and
/// voc_eval.py take it (SVM margins and logits are common); only the order of scores matters to every metric.
/// An empty list gives no detections. A valid file is read in one streaming pass over the memory-mapped bytes
/// (results of a 5,000-image run are hundreds of MB); anything else is read again by the checked path, whose
/// error names the element.
DetectionSet read_coco_results(const std::filesystem::path& json_file, const Dataset& gt);

namespace detail {
/// The two paths of read_coco_results, for tests and benchmarks. The streaming one gives the checked one's
/// DetectionSet on every file it accepts and nullopt on anything else (it never throws InputError).
std::optional<DetectionSet> read_coco_results_streaming(const std::filesystem::path& json_file, const Dataset& gt);
DetectionSet read_coco_results_checked(const std::filesystem::path& json_file, const Dataset& gt);
}  // namespace detail

/// Writes dets as a COCO results JSON list (images in gt order), atomically (no partial file on failure).
/// Reading the file back with read_coco_results gives the same boxes and scores, bit for bit.
/// requires: check_detections(gt, dets) passes.
void write_coco_results(const std::filesystem::path& json_file, const Dataset& gt, const DetectionSet& dets);

}  // namespace detlab
