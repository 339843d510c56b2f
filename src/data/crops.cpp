// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// make_crop_dataset: ground-truth and background crops of a detection set, warped to a fixed size.
#include "data/crops.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include <opencv2/imgproc.hpp>

#include "config/checked.h"
#include "config/config.h"
#include "core/box_ops.h"
#include "core/error.h"
#include "core/progress.h"

namespace detlab {

namespace {

constexpr int kBackgroundTries = 50;  // per wanted crop; a crowded image gives fewer crops rather than a stall

std::mt19937_64 rng_for(uint64_t seed, uint64_t stream, uint64_t index) {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(stream),
                    static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32)};
  return std::mt19937_64(seq);
}

ImageRecord crop_record(const std::string& name, int size, int label) {
  ImageRecord r;
  r.name = name;
  r.file = "crops/" + name + ".png";
  r.width = r.height = size;
  Object o;
  o.box = Box{0.f, 0.f, static_cast<float>(size), static_cast<float>(size)};
  o.label = label;
  r.objects.push_back(o);
  return r;
}

}  // namespace

CropOptions parse_crop_options(const Config& node) {
  CropOptions o;
  o.size = node.get<int>("size", o.size);
  o.context = node.get<float>("context", o.context);
  o.background_per_image = node.get<int>("background_per_image", o.background_per_image);
  o.background_max_iou = node.get<float>("background_max_iou", o.background_max_iou);
  o.background_max_cover = node.get<float>("background_max_cover", o.background_max_cover);
  o.per_class = node.get<int>("per_class", o.per_class);
  o.min_box = node.get<int>("min_box", o.min_box);
  o.scale = node.get<float>("scale", o.scale);
  if (o.size < 8 || o.size > 1024) config_error(node, "size", "must be in [8, 1024]");
  if (!(o.context >= 0 && o.context <= 2)) {
    config_error(node, "context", "must be in [0, 2] (a fraction of the box side)");
  }
  if (o.background_per_image < 0) config_error(node, "background_per_image", "must be >= 0");
  if (!(o.background_max_iou >= 0 && o.background_max_iou < 1)) {
    config_error(node, "background_max_iou", "must be in [0, 1)");
  }
  if (!(o.background_max_cover >= 0 && o.background_max_cover <= 1)) {
    config_error(node, "background_max_cover", "must be in [0, 1]");
  }
  if (o.per_class < 0) config_error(node, "per_class", "must be >= 0 (0: natural class counts)");
  if (o.min_box < 1) config_error(node, "min_box", "must be >= 1");
  if (!(o.scale >= 0 && o.scale <= 8)) config_error(node, "scale", "must be in [0, 8] (0: warp each box to the crop)");
  return o;
}

Box crop_region(const Box& box, const CropOptions& opts) {
  if (opts.scale > 0) {
    const float half = 0.5f * static_cast<float>(opts.size) / opts.scale;
    const float cx = 0.5f * (box.x1 + box.x2), cy = 0.5f * (box.y1 + box.y2);
    return Box{cx - half, cy - half, cx + half, cy + half};
  }
  const float mx = opts.context * (box.x2 - box.x1), my = opts.context * (box.y2 - box.y1);
  return Box{box.x1 - mx, box.y1 - my, box.x2 + mx, box.y2 + my};
}

cv::Mat crop_box(const cv::Mat& bgr, const Box& box, const CropOptions& opts) {
  DETLAB_REQUIRE(!bgr.empty() && bgr.type() == CV_8UC3, bgr.type());
  DETLAB_REQUIRE(box.x2 > box.x1 && box.y2 > box.y1, box.x1, box.y1, box.x2, box.y2);
  const Box r = crop_region(box, opts);
  // An affine warp maps the region onto the crop; outside the image it reads the replicated border (R-CNN
  // fills with the image mean instead; replication keeps the cell texture at the image edge).
  const double sx = opts.size / static_cast<double>(r.x2 - r.x1), sy = opts.size / static_cast<double>(r.y2 - r.y1);
  // Pixel centres map onto pixel centres: u = sx * (x + 0.5 - region.x1) - 0.5 (x input, u output index).
  const cv::Mat m = (cv::Mat_<double>(2, 3) << sx, 0, sx * (0.5 - r.x1) - 0.5, 0, sy, sy * (0.5 - r.y1) - 0.5);
  cv::Mat out;
  // INTER_AREA is not available to warpAffine; shrinking by > 2x first blurs with a box filter (anti-aliasing).
  cv::Mat src = bgr;
  if (sx < 0.5 || sy < 0.5) {
    const int kx = std::max(1, static_cast<int>(std::lround(0.5 / sx))) | 1;
    const int ky = std::max(1, static_cast<int>(std::lround(0.5 / sy))) | 1;
    cv::blur(bgr, src, cv::Size(kx, ky), cv::Point(-1, -1), cv::BORDER_REPLICATE);
  }
  cv::warpAffine(src, out, m, cv::Size(opts.size, opts.size), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

std::vector<Box> sample_background(const ImageRecord& rec, int image_width, int image_height, int count,
                                   const CropOptions& opts, uint64_t seed, int image_index) {
  std::vector<Box> out;
  if (count <= 0 || image_width < 2 || image_height < 2) return out;
  std::mt19937_64 rng = rng_for(seed, /*stream=*/0xB6, static_cast<uint64_t>(image_index));
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::vector<Box> objects;
  for (const Object& o : rec.objects) objects.push_back(o.box);
  for (int t = 0; t < count * kBackgroundTries && static_cast<int>(out.size()) < count; ++t) {
    float w = 0.25f * image_width, h = 0.25f * image_height;  // no objects: a quarter of the image
    if (!objects.empty()) {
      const Box& ref = objects[std::min(objects.size() - 1, static_cast<size_t>(unit(rng) * objects.size()))];
      const float f = 0.7f + 0.6f * unit(rng);  // sizes near the objects' own, so size alone is no cue
      w = f * (ref.x2 - ref.x1);
      h = f * (ref.y2 - ref.y1);
    }
    w = std::clamp(w, 2.f, static_cast<float>(image_width));
    h = std::clamp(h, 2.f, static_cast<float>(image_height));
    const float x = unit(rng) * (image_width - w), y = unit(rng) * (image_height - h);
    const Box b{x, y, x + w, y + h};
    bool clear = true;
    if (opts.scale > 0) {
      const Box window = crop_region(b, opts);
      for (const Box& o : objects) {
        const float iw = std::min(window.x2, o.x2) - std::max(window.x1, o.x1);
        const float ih = std::min(window.y2, o.y2) - std::max(window.y1, o.y1);
        const float inside = iw > 0 && ih > 0 ? iw * ih : 0.f;
        clear = clear && inside < opts.background_max_cover * (o.x2 - o.x1) * (o.y2 - o.y1);
      }
    } else {
      for (const Box& o : objects) clear = clear && iou(b, o) < opts.background_max_iou;
    }
    for (const Box& o : out) clear = clear && iou(b, o) < 0.5f;  // distinct crops, not one region repeated
    if (clear) out.push_back(b);
  }
  return out;
}

Dataset make_crop_dataset(const Dataset& source, const CropOptions& opts, uint64_t seed, bool show_progress) {
  DETLAB_REQUIRE(!source.images.empty());
  DETLAB_REQUIRE(opts.size >= 8, opts.size);
  Dataset out;
  out.name = source.name + "_crops";
  out.format = "crops";
  out.class_names = source.class_names;
  out.class_names.push_back("background");
  const int background = static_cast<int>(source.class_names.size());
  for (size_t k = 0; k < out.class_names.size(); ++k) out.category_ids.push_back(static_cast<int64_t>(k) + 1);

  std::vector<ImageRecord> crops;
  std::unique_ptr<ProgressBar> bar;
  if (show_progress) bar = std::make_unique<ProgressBar>("crops", static_cast<int64_t>(source.images.size()), "img");
  for (size_t i = 0; i < source.images.size(); ++i) {
    const ImageRecord& rec = source.images[i];
    const cv::Mat bgr = source.load_image(i);
    int k = 0;
    auto add = [&](const Box& b, int label) {
      ImageRecord r = crop_record(rec.name + "#" + std::to_string(k++), opts.size, label);
      out.memory_images[r.name] = crop_box(bgr, b, opts);
      crops.push_back(std::move(r));
    };
    for (const Object& o : rec.objects) {
      if (o.crowd || o.box.x2 - o.box.x1 < opts.min_box || o.box.y2 - o.box.y1 < opts.min_box) continue;
      add(o.box, o.label);
    }
    for (const Box& b : sample_background(rec, bgr.cols, bgr.rows, opts.background_per_image, opts, seed,
                                          static_cast<int>(i)))
      add(b, background);
    if (bar) bar->tick();
  }
  if (bar) bar->finish();

  if (opts.per_class > 0) {
    // Class balance by resampling: rare classes are cycled (each crop appears before any appears twice), common
    // ones subsampled; the loader's flips make repeats differ.
    std::map<int, std::vector<size_t>> by_label;
    for (size_t j = 0; j < crops.size(); ++j) by_label[crop_label(crops[j])].push_back(j);
    std::vector<ImageRecord> balanced;
    for (auto& [label, idx] : by_label) {
      std::mt19937_64 rng = rng_for(seed, /*stream=*/0xC1, static_cast<uint64_t>(label));
      std::shuffle(idx.begin(), idx.end(), rng);
      for (int r = 0; r < opts.per_class; ++r) {
        const ImageRecord& src = crops[idx[static_cast<size_t>(r) % idx.size()]];
        const int round = r / static_cast<int>(idx.size());
        if (round == 0) {
          balanced.push_back(src);
        } else {
          ImageRecord copy = src;
          copy.name += "~" + std::to_string(round);
          out.memory_images[copy.name] = out.memory_images.at(src.name);  // shares the pixels
          balanced.push_back(std::move(copy));
        }
      }
    }
    // Drop the pixels of crops that subsampling left out.
    std::map<std::string, cv::Mat> kept;
    for (const ImageRecord& r : balanced) kept[r.name] = out.memory_images.at(r.name);
    out.memory_images.swap(kept);
    crops.swap(balanced);
  }
  for (size_t j = 0; j < crops.size(); ++j) crops[j].id = static_cast<int64_t>(j) + 1;
  out.images = std::move(crops);
  return out;
}

}  // namespace detlab
