// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Classification data from a detection set: warped crops of ground-truth boxes plus background crops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "core/types.h"
#include "data/dataset.h"

namespace detlab {

class Config;

/// How boxes become classifier inputs (R-CNN's warp, Girshick et al. 2014, section 2.1 / appendix A).
struct CropOptions {
  int size = 64;                   // crops are warped to size x size: a small CPU-trainable input
  float context = 0.15f;           // margin added on every side, as a fraction of the box side (R-CNN: 16 px
                                   // around a 195 px box at 227, i.e. ~8%; cells need a little more background)
  int background_per_image = 4;    // background crops sampled from each image
  float background_max_iou = 0.1f; // a background crop overlaps every object box by less than this IoU
  float background_max_cover = 0.1f;  // fixed-scale mode: the window holds less than this fraction of any object
                                      // (a background window must not show objects: with global pooling their
                                      // evidence would count as background)
  int per_class = 0;               // > 0: every class is resampled (cycled or subsampled) to this many crops
  int min_box = 4;                 // objects with a side below this many pixels are skipped (nothing to see)
  float scale = 0.f;               // 0: warp mode (above). > 0: fixed-scale mode: the crop is the size x size
                                   // window centred on the box in the image resized by `scale` (context unused),
                                   // so every object keeps its relative size and a whole image resized by the
                                   // same factor looks like the crops to the network (CAM on whole images)
};

/// Keys: size, context, background_per_image, background_max_iou, background_max_cover, per_class, min_box, scale
/// (InputError naming
/// the dotted key on a bad value).
CropOptions parse_crop_options(const Config& node);

/// The crop of one box: warp mode: the box grown by `context` on every side, cut out (replicating the border
/// where it leaves the image) and warped to size x size with bilinear interpolation; fixed-scale mode: the
/// window of side size / scale centred on the box, resized by scale.
/// requires: bgr CV_8UC3 non-empty; box has positive width and height.
cv::Mat crop_box(const cv::Mat& bgr, const Box& box, const CropOptions& opts);

/// The region crop_box() reads for a box (the box grown by the context margin, or the fixed-scale window), in
/// image pixels.
Box crop_region(const Box& box, const CropOptions& opts);

/// Background boxes of one image: `count` boxes whose sizes are drawn from the image's own object sizes
/// (times a factor in [0.7, 1.3]) and whose IoU with every object is below background_max_iou (fixed-scale mode:
/// whose window holds less than background_max_cover of every object); fewer when
/// the image is too crowded (a bounded number of tries). Deterministic in (seed, image_index).
std::vector<Box> sample_background(const ImageRecord& rec, int image_width, int image_height, int count,
                                   const CropOptions& opts, uint64_t seed, int image_index);

/// What this represents: a classification set in the detection Dataset type, so that the training engine's
/// loader (batching, flips, determinism, checkpoints) serves classifiers unchanged. Every "image" is one
/// size x size crop held in memory_images, with one object covering the whole crop whose label is the class:
/// 0..K-1 the source classes, K = "background". Image names are "<source name>#<k>" (k counts the crops of
/// that source image; repeats of per_class resampling get "~<r>" appended and share pixels).
/// requires: source has images; opts.size >= 8.
/// ensures: class_names == source.class_names + {"background"}; no splits.
Dataset make_crop_dataset(const Dataset& source, const CropOptions& opts, uint64_t seed, bool show_progress = true);

/// Label of a crop record (its single object).
inline int crop_label(const ImageRecord& rec) { return rec.objects.empty() ? -1 : rec.objects.front().label; }

}  // namespace detlab
