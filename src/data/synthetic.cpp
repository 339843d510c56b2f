// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Synthetic shapes dataset: integer-only sampling and rasterization so that every machine draws the same bits.
#include "data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>

#include "config/config.h"
#include "core/box_ops.h"
#include "core/error.h"
#include "core/progress.h"

namespace detlab {

namespace {

constexpr int kBarMinImages = 500;  // ~1.5 s of drawing on one core; shorter runs need no progress bar

const char* const kShapes[] = {"ellipse", "rectangle", "triangle", "cross", "ring", "diamond"};
enum Shape { kEllipse, kRectangle, kTriangle, kCross, kRing, kDiamond };

// Raw mt19937_64 draws mapped with integer arithmetic (std::uniform_*_distribution is implementation-defined).
class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  uint64_t next() { return g_(); }
  /// Uniform in [lo, hi] (inclusive): the high 64 bits of draw * span (Lemire's mapping, without rejection).
  int uniform(int lo, int hi) {
    const uint64_t span = static_cast<uint64_t>(static_cast<int64_t>(hi) - lo + 1);
    return lo + static_cast<int>((static_cast<unsigned __int128>(next()) * span) >> 64);
  }
  /// True with probability permille / 1000.
  bool chance(int permille) { return uniform(0, 999) < permille; }

 private:
  std::mt19937_64 g_;
};

// SplitMix64 finalizer: decorrelates the per-image seeds derived from (seed, index).
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

int permille(float fraction) { return static_cast<int>(std::lround(static_cast<double>(fraction) * 1000)); }
int luminance(int b, int g, int r) { return (114 * b + 587 * g + 299 * r) / 1000; }  // ITU-R BT.601 weights
uint8_t clamp8(int v) { return static_cast<uint8_t>(std::min(255, std::max(0, v))); }

// Inside test at the centre of pixel (i, j) of a w x h box, in half-pixel units (exact integer arithmetic).
bool inside(Shape s, int i, int j, int64_t w, int64_t h) {
  const int64_t dx = std::abs(2 * int64_t{i} + 1 - w), dy = std::abs(2 * int64_t{j} + 1 - h);  // |offset| < w, h
  const int64_t e = dx * dx * h * h + dy * dy * w * w, r = w * w * h * h;
  switch (s) {
    case kEllipse: return e <= r;
    case kRectangle: return true;
    case kTriangle: return dx * 2 * h <= (2 * int64_t{j} + 1) * w;  // apex at the top centre
    case kCross: return 3 * dx <= w || 3 * dy <= h;                 // arms one third of the box thick
    case kRing: return e <= r && 400 * e >= 121 * r;                // hole of 0.55 times the outer radii
    case kDiamond: return dx * h + dy * w <= w * h;
  }
  return false;
}

struct Placed {
  Shape shape;
  int label;
  cv::Rect rect;
};

void check(bool ok, const char* option, const std::string& message) {
  if (!ok) throw InputError("", std::string("synthetic.") + option, message);
}

void validate(const SyntheticOptions& o, std::vector<Shape>& shapes) {
  check(o.num_images >= 1, "num_images", "must be >= 1");
  check(o.width >= 16 && o.height >= 16 && o.width <= 8192 && o.height <= 8192, "width",
        "image size must be in [16, 8192]");
  check(o.min_objects >= 1 && o.max_objects >= o.min_objects && o.max_objects <= 64, "max_objects",
        "need 1 <= min_objects <= max_objects <= 64");
  check(o.min_size >= 8 && o.max_size >= o.min_size && o.max_size <= std::min(o.width, o.height), "max_size",
        "need 8 <= min_size <= max_size <= image size");
  check(o.max_aspect >= 1.f && o.max_aspect <= 4.f && o.min_size / o.max_aspect >= 4.f, "max_aspect",
        "must be in [1, 4] with min_size / max_aspect >= 4 px");
  check(o.max_iou >= 0.f && o.max_iou < 1.f, "max_iou", "must be in [0, 1)");
  check(o.occlusion_prob >= 0.f && o.occlusion_prob <= 1.f, "occlusion_prob", "must be in [0, 1]");
  check(o.max_occluded >= 0.f && o.max_occluded <= 0.5f, "max_occluded", "must be in [0, 0.5]");
  check(o.clutter_lines >= 0 && o.noise >= 0 && o.noise <= 100, "noise", "need clutter_lines >= 0, noise in [0, 100]");
  check(o.min_contrast >= 0 && o.min_contrast <= 200, "min_contrast", "must be in [0, 200]");
  check(o.val_fraction >= 0.f && o.test_fraction >= 0.f && o.val_fraction + o.test_fraction <= 1.f, "val_fraction",
        "val_fraction + test_fraction must be in [0, 1]");
  check(!o.classes.empty(), "classes", "needs at least one shape");
  for (const std::string& c : o.classes) {
    auto it = std::find_if(std::begin(kShapes), std::end(kShapes), [&](const char* s) { return c == s; });
    check(it != std::end(kShapes), "classes", "unknown shape '" + c + "' (ellipse, rectangle, triangle, cross, ring, diamond)");
    const Shape s = static_cast<Shape>(it - std::begin(kShapes));
    check(std::find(shapes.begin(), shapes.end(), s) == shapes.end(), "classes", "shape '" + c + "' listed twice");
    shapes.push_back(s);
  }
}

// Two-colour linear gradient along a random direction, plus per-pixel noise.
void draw_background(cv::Mat& img, Rng& rng, int noise) {
  int c0[3], c1[3];
  for (int c = 0; c < 3; ++c) {
    c0[c] = rng.uniform(40, 215);  // away from black / white so both dark and bright objects contrast
    c1[c] = std::min(235, std::max(20, c0[c] + rng.uniform(-60, 60)));
  }
  const int gx = rng.uniform(-8, 8), gy = rng.uniform(-8, 8);
  int64_t lo = 0, hi = 0;
  for (int corner = 0; corner < 4; ++corner) {
    const int64_t p = int64_t{gx} * ((corner & 1) ? img.cols - 1 : 0) + int64_t{gy} * ((corner & 2) ? img.rows - 1 : 0);
    lo = std::min(lo, p), hi = std::max(hi, p);
  }
  const int64_t range = std::max<int64_t>(1, hi - lo);
  for (int y = 0; y < img.rows; ++y) {
    uint8_t* row = img.ptr<uint8_t>(y);
    for (int x = 0; x < img.cols; ++x) {
      const int64_t t = int64_t{gx} * x + int64_t{gy} * y - lo;
      const uint64_t r = rng.next();
      for (int c = 0; c < 3; ++c) {
        const int n = noise ? static_cast<int>((r >> (8 * c)) & 0xFF) % (2 * noise + 1) - noise : 0;
        row[3 * x + c] = clamp8(c0[c] + static_cast<int>((c1[c] - c0[c]) * t / range) + n);
      }
    }
  }
}

// Bresenham line of the given thickness (a square brush).
void draw_line(cv::Mat& img, cv::Point a, cv::Point b, const uint8_t bgr[3], int thickness) {
  const int dx = std::abs(b.x - a.x), dy = -std::abs(b.y - a.y), sx = a.x < b.x ? 1 : -1, sy = a.y < b.y ? 1 : -1;
  int err = dx + dy;
  for (;;) {
    for (int ty = 0; ty < thickness; ++ty)
      for (int tx = 0; tx < thickness; ++tx) {
        const int x = a.x + tx, y = a.y + ty;
        if (x >= 0 && y >= 0 && x < img.cols && y < img.rows) std::copy(bgr, bgr + 3, img.ptr<uint8_t>(y) + 3 * x);
      }
    if (a == b) break;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, a.x += sx;
    if (e2 <= dx) err += dx, a.y += sy;
  }
}

// Places up to n boxes with limited overlap; a box that finds no place in kTries attempts is skipped.
std::vector<Placed> place_objects(const SyntheticOptions& o, const std::vector<Shape>& shapes, Rng& rng, int n) {
  constexpr int kTries = 50;  // enough for 4 objects of <= 96 px in 256 x 256; more only slows crowded images
  const int max_aspect_pm = permille(o.max_aspect);
  std::vector<Placed> placed;
  for (int k = 0; k < n; ++k) {
    const int label = rng.uniform(0, static_cast<int>(shapes.size()) - 1);
    const int long_side = rng.uniform(o.min_size, o.max_size);
    const int aspect_pm = rng.uniform(1000, max_aspect_pm);
    const int short_side = std::max(4, long_side * 1000 / aspect_pm);
    const bool wide = rng.chance(500);
    const int w = wide ? long_side : short_side, h = wide ? short_side : long_side;
    for (int t = 0; t < kTries; ++t) {
      const cv::Rect r(rng.uniform(0, o.width - w), rng.uniform(0, o.height - h), w, h);
      const Box b{float(r.x), float(r.y), float(r.x + w), float(r.y + h)};
      bool ok = true;
      for (const Placed& p : placed) {
        const Box q{float(p.rect.x), float(p.rect.y), float(p.rect.x + p.rect.width), float(p.rect.y + p.rect.height)};
        const int64_t inter = (r & p.rect).area();
        // at most half of either box covered, so that the smaller object stays recognisable
        if (iou(b, q) > o.max_iou || 2 * inter > r.area() || 2 * inter > p.rect.area()) ok = false;
      }
      if (ok) {
        placed.push_back({shapes[label], label, r});
        break;
      }
    }
  }
  return placed;
}

// Picks a colour whose luminance differs from `background` by at least min_contrast.
void pick_colour(Rng& rng, int background, int min_contrast, uint8_t bgr[3]) {
  constexpr int kTries = 20;
  for (int t = 0; t < kTries; ++t) {
    for (int c = 0; c < 3; ++c) bgr[c] = static_cast<uint8_t>(rng.uniform(0, 255));
    if (std::abs(luminance(bgr[0], bgr[1], bgr[2]) - background) >= min_contrast) return;
  }
  const uint8_t v = background >= 128 ? rng.uniform(0, 40) : rng.uniform(215, 255);  // fall back to dark / bright
  bgr[0] = bgr[1] = bgr[2] = v;
}

ImageRecord make_image(const SyntheticOptions& o, const std::vector<Shape>& shapes, uint64_t seed, cv::Mat& img) {
  Rng rng(seed);
  img.create(o.height, o.width, CV_8UC3);
  draw_background(img, rng, o.noise);
  for (int l = 0; l < o.clutter_lines; ++l) {
    uint8_t bgr[3];
    for (int c = 0; c < 3; ++c) bgr[c] = static_cast<uint8_t>(rng.uniform(0, 255));
    const cv::Point a(rng.uniform(0, o.width - 1), rng.uniform(0, o.height - 1));
    const cv::Point b(rng.uniform(0, o.width - 1), rng.uniform(0, o.height - 1));
    draw_line(img, a, b, bgr, rng.uniform(1, 2));
  }
  std::vector<Placed> objs = place_objects(o, shapes, rng, rng.uniform(o.min_objects, o.max_objects));
  std::stable_sort(objs.begin(), objs.end(), [](const Placed& a, const Placed& b) { return a.rect.area() > b.rect.area(); });

  cv::Mat owner(o.height, o.width, CV_16S, cv::Scalar(-1));  // index of the object that shows at each pixel
  std::vector<int64_t> own_pixels(objs.size(), 0);
  for (size_t k = 0; k < objs.size(); ++k) {
    const cv::Rect& r = objs[k].rect;
    int64_t lum = 0;
    for (int y = r.y; y < r.y + r.height; ++y)
      for (int x = r.x; x < r.x + r.width; ++x) {
        const uint8_t* p = img.ptr<uint8_t>(y) + 3 * x;
        lum += luminance(p[0], p[1], p[2]);
      }
    uint8_t bgr[3];
    pick_colour(rng, static_cast<int>(lum / r.area()), o.min_contrast, bgr);
    for (int j = 0; j < r.height; ++j)
      for (int i = 0; i < r.width; ++i) {
        if (!inside(objs[k].shape, i, j, r.width, r.height)) continue;
        const uint64_t rn = rng.next();
        uint8_t* p = img.ptr<uint8_t>(r.y + j) + 3 * (r.x + i);
        for (int c = 0; c < 3; ++c)  // half the background noise: a textured but clearly uniform surface
          p[c] = clamp8(bgr[c] + (o.noise ? static_cast<int>((rn >> (8 * c)) & 0xFF) % (o.noise + 1) - o.noise / 2 : 0));
        owner.at<int16_t>(r.y + j, r.x + i) = static_cast<int16_t>(k);
        ++own_pixels[k];
      }
  }
  // Occluders: background-coloured patches over one side of an object, hiding at most max_occluded of any object.
  const int occ_pm = permille(o.occlusion_prob);
  for (size_t k = 0; k < objs.size(); ++k) {
    if (!rng.chance(occ_pm)) continue;
    const cv::Rect& r = objs[k].rect;
    const int side = rng.uniform(0, 3), depth_pm = rng.uniform(150, 350);  // covers 15-35 % of the box
    cv::Rect occ = r;
    if (side < 2) occ.width = std::max(1, r.width * depth_pm / 1000), occ.x = side == 0 ? r.x : r.x + r.width - occ.width;
    else occ.height = std::max(1, r.height * depth_pm / 1000), occ.y = side == 2 ? r.y : r.y + r.height - occ.height;
    std::vector<int64_t> hidden(objs.size(), 0);
    for (int y = occ.y; y < occ.y + occ.height; ++y)
      for (int x = occ.x; x < occ.x + occ.width; ++x)
        if (const int16_t w = owner.at<int16_t>(y, x); w >= 0) ++hidden[w];
    bool ok = true;
    for (size_t m = 0; m < objs.size(); ++m) {
      int64_t visible = 0;  // pixels of m still showing
      for (int y = objs[m].rect.y; y < objs[m].rect.br().y; ++y)
        for (int x = objs[m].rect.x; x < objs[m].rect.br().x; ++x) visible += owner.at<int16_t>(y, x) == int16_t(m);
      if ((visible - hidden[m]) * 1000 < own_pixels[m] * (1000 - permille(o.max_occluded))) ok = false;
    }
    if (!ok) continue;
    uint8_t bgr[3];
    const uint8_t* ref = img.ptr<uint8_t>(std::min(o.height - 1, r.y + r.height + 2)) + 3 * std::min(o.width - 1, r.x);
    for (int c = 0; c < 3; ++c) bgr[c] = clamp8(ref[c] + rng.uniform(-20, 20));  // near the local background
    for (int y = occ.y; y < occ.y + occ.height; ++y)
      for (int x = occ.x; x < occ.x + occ.width; ++x) {
        std::copy(bgr, bgr + 3, img.ptr<uint8_t>(y) + 3 * x);
        owner.at<int16_t>(y, x) = -2;
      }
  }
  ImageRecord rec;
  rec.width = o.width;
  rec.height = o.height;
  for (size_t k = 0; k < objs.size(); ++k) {
    int x1 = o.width, y1 = o.height, x2 = -1, y2 = -1;
    for (int y = objs[k].rect.y; y < objs[k].rect.br().y; ++y)
      for (int x = objs[k].rect.x; x < objs[k].rect.br().x; ++x)
        if (owner.at<int16_t>(y, x) == int16_t(k)) x1 = std::min(x1, x), y1 = std::min(y1, y), x2 = std::max(x2, x), y2 = std::max(y2, y);
    DETLAB_CHECK(x2 - x1 >= 1 && y2 - y1 >= 1, "object hidden", x1, y1, x2, y2);
    Object ob;
    ob.box = Box{float(x1), float(y1), float(x2 + 1), float(y2 + 1)};  // tight extent of the visible pixels
    ob.label = objs[k].label;
    ob.id = static_cast<int64_t>(k) + 1;
    rec.objects.push_back(ob);
  }
  return rec;
}

}  // namespace

std::vector<std::string> synthetic_shapes() { return {std::begin(kShapes), std::end(kShapes)}; }

SyntheticOptions parse_synthetic(const Config& c) {
  SyntheticOptions o;
  o.num_images = c.get<int>("num_images", o.num_images);
  o.width = c.get<int>("width", o.width);
  o.height = c.get<int>("height", o.height);
  o.min_objects = c.get<int>("min_objects", o.min_objects);
  o.max_objects = c.get<int>("max_objects", o.max_objects);
  o.min_size = c.get<int>("min_size", o.min_size);
  o.max_size = c.get<int>("max_size", o.max_size);
  o.max_aspect = c.get<float>("max_aspect", o.max_aspect);
  o.classes = c.get<std::vector<std::string>>("classes", o.classes);
  o.max_iou = c.get<float>("max_iou", o.max_iou);
  o.occlusion_prob = c.get<float>("occlusion_prob", o.occlusion_prob);
  o.max_occluded = c.get<float>("max_occluded", o.max_occluded);
  o.clutter_lines = c.get<int>("clutter_lines", o.clutter_lines);
  o.noise = c.get<int>("noise", o.noise);
  o.min_contrast = c.get<int>("min_contrast", o.min_contrast);
  o.val_fraction = c.get<float>("val_fraction", o.val_fraction);
  o.test_fraction = c.get<float>("test_fraction", o.test_fraction);
  o.seed = static_cast<uint64_t>(c.get<int64_t>("seed", static_cast<int64_t>(o.seed)));
  return o;
}

Dataset make_synthetic(const SyntheticOptions& o) {
  std::vector<Shape> shapes;
  validate(o, shapes);
  Dataset ds;
  ds.name = "synthetic";
  ds.format = "synthetic";
  ds.class_names = o.classes;
  for (size_t k = 0; k < o.classes.size(); ++k) ds.category_ids.push_back(static_cast<int64_t>(k) + 1);
  const int n_val = static_cast<int>(std::lround(o.num_images * static_cast<double>(o.val_fraction)));
  const int n_test = static_cast<int>(std::lround(o.num_images * static_cast<double>(o.test_fraction)));
  const int n_train = std::max(0, o.num_images - n_val - n_test);
  // Images are independent (seeded by (seed, i)), so they are drawn in parallel with identical results.
  std::vector<ImageRecord> records(o.num_images);
  std::vector<cv::Mat> pixels(o.num_images);
  std::optional<ProgressBar> bar;
  if (o.num_images >= kBarMinImages) bar.emplace("synthetic", o.num_images, "img");
  cv::parallel_for_(cv::Range(0, o.num_images), [&](const cv::Range& range) {
    for (int i = range.start; i < range.end; ++i) {
      records[i] = make_image(o, shapes, mix(o.seed ^ mix(static_cast<uint64_t>(i))), pixels[i]);
      if (bar) bar->tick();
    }
  });
  if (bar) bar->finish();
  for (int i = 0; i < o.num_images; ++i) {
    cv::Mat& img = pixels[i];
    ImageRecord& rec = records[i];
    char name[32];
    std::snprintf(name, sizeof name, "synth_%06d", i + 1);
    rec.name = name;
    rec.file = "JPEGImages/" + rec.name + ".png";
    rec.id = i + 1;
    ds.memory_images[rec.name] = img;
    ds.images.push_back(std::move(rec));
    const char* split = i < n_train ? "train" : (i < n_train + n_val ? "val" : "test");
    ds.splits[split].push_back(i);
  }
  return ds;
}

}  // namespace detlab
