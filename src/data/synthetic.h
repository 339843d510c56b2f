// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Deterministic synthetic detection data: coloured shapes on textured backgrounds, for fast end-to-end tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace detlab {

class Config;

/// What this represents: a detection dataset that detectors learn in seconds on a CPU yet is not trivial.
/// Each image has a textured background (a two-colour linear gradient, per-pixel noise and random clutter
/// lines) and 1-4 filled shapes whose colour is random (not tied to the class) but differs from the local
/// background by at least min_contrast in luminance. Classes are shapes; sizes and aspect ratios vary;
/// objects overlap little (box IoU <= max_iou, and at most half of either box covered); big objects are drawn
/// first so small ones stay visible; optional occluder patches hide at most max_occluded of an object.
/// Boxes are the tight extent of each object's visible pixels.
///
/// Defaults: 240 images of 256 x 256 (160 train / 40 val / 40 test), 4 classes, 1-4 objects of 32-96 px
/// (longer side), aspect ratio up to 2. Sized for HOG+SVM and small CNN tests that must reach AP50 >= 0.7 in
/// seconds to a couple of minutes on a CPU; shrink width / height / sizes together for faster tests.
///
/// Determinism: only std::mt19937_64 raw draws (its output sequence is fixed by the C++ standard) mapped with
/// integer arithmetic, and integer rasterization: the same options give bit-identical pixels and boxes on
/// every machine and compiler. Image i depends only on (seed, i), not on num_images.
struct SyntheticOptions {
  int num_images = 240;
  int width = 256;
  int height = 256;
  int min_objects = 1;
  int max_objects = 4;
  int min_size = 32;          // longer side of an object's box, px (HOG needs >= ~24 px to see the shape)
  int max_size = 96;
  float max_aspect = 2.f;     // long side / short side drawn uniformly in [1, max_aspect], either orientation
  std::vector<std::string> classes = {"ellipse", "rectangle", "triangle", "cross"};  // see synthetic_shapes()
  float max_iou = 0.3f;       // between two objects' boxes
  float occlusion_prob = 0.2f;  // chance that an object gets an occluder patch over one of its sides
  float max_occluded = 0.3f;  // an occluder never hides more than this fraction of an object's pixels
  int clutter_lines = 6;      // thin random lines per image
  int noise = 12;             // per-pixel noise amplitude (+-), grey levels
  int min_contrast = 80;      // |luminance(object) - mean luminance(background under it)|, grey levels
  float val_fraction = 1.f / 6;   // the first images are train, then val, then test
  float test_fraction = 1.f / 6;
  uint64_t seed = 0;
};

/// Every shape name make_synthetic knows: ellipse, rectangle, triangle (apex up), cross, ring, diamond.
std::vector<std::string> synthetic_shapes();

/// Reads the keys of SyntheticOptions (same names) from a config node; defaults for absent keys.
SyntheticOptions parse_synthetic(const Config& node);

/// Generates the dataset: format "synthetic", images "synth_000001".. with file "JPEGImages/<name>.png",
/// ids 1..N, pixels in memory_images (CV_8UC3 BGR), splits "train" / "val" / "test" (empty ones left out).
/// Write it to disk with write_voc(make_synthetic(o), dir).
/// requires: valid options (InputError naming the option otherwise).
/// ensures: every box lies inside the image with width, height >= 2 px; labels in [0, classes.size()).
Dataset make_synthetic(const SyntheticOptions& opts);

}  // namespace detlab
