// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// sliding_window: windows of one or more shapes over an image pyramid; shapes optionally learned per class.
#include "proposals/sliding_window.h"

#include <algorithm>
#include <cmath>

#include "config/checked.h"
#include "core/error.h"
#include "data/dataset.h"
#include "pipeline/model_dir.h"

namespace detlab {

namespace {

constexpr int kFormatVersion = 1;
constexpr const char* kFile = "sliding_window.json";
/// Levels larger than this many pixels are skipped: a typo such as min_object: 0.1 must not exhaust memory.
constexpr double kMaxLevelPixels = 64.0 * 1024 * 1024;

/// A window shape and the pyramid scales at which it is scanned.
struct ScannedShape {
  WindowShape shape;
  float s_lo = 0.f;  // 0: down to the smallest level where the window fits
  float s_hi = 1.f;
};

float aspect(const WindowShape& s) { return static_cast<float>(s.width) / static_cast<float>(s.height); }

bool same_aspect(float a, float b) { return std::max(a, b) / std::min(a, b) < kMinAspectGap; }

float quantile(std::vector<float> v, float q) {
  std::sort(v.begin(), v.end());
  const float pos = q * static_cast<float>(v.size() - 1);
  const size_t i = static_cast<size_t>(std::floor(pos));
  const size_t j = std::min(i + 1, v.size() - 1);
  return v[i] + (pos - static_cast<float>(i)) * (v[j] - v[i]);
}

class SlidingWindowProposals final : public ProposalStage, public WindowProposals {
 public:
  explicit SlidingWindowProposals(const SlidingWindowOptions& opts) : opts_(opts) {
    if (opts_.windows.empty()) {
      const int side = aligned(std::sqrt(static_cast<float>(opts_.window_area)));
      shapes_.push_back({{side, side}, 0.f, 1.f});
    } else {
      for (const WindowShape& w : opts_.windows) {
        const float root = std::sqrt(static_cast<float>(w.width) * w.height);
        shapes_.push_back({w, opts_.max_object > 0 ? root / opts_.max_object : 0.f,
                           opts_.min_object > 0 ? root / opts_.min_object : 1.f});
      }
    }
  }

  std::string_view name() const override { return "sliding_window"; }
  int max_proposals() const override { return opts_.max_proposals; }

  std::vector<WindowShape> window_shapes() const override {
    std::vector<WindowShape> s;
    for (const ScannedShape& x : shapes_) s.push_back(x.shape);
    return s;
  }

  int window_of_class(int c) const override {
    if (!class_window_.empty()) return c < static_cast<int>(class_window_.size()) ? class_window_[c] : 0;
    return shapes_.size() == 1 ? 0 : c;
  }

  Proposals propose(const ImageContext& ctx) override {
    DETLAB_REQUIRE(ctx.image && !ctx.image->bgr.empty(), "sliding_window needs an image");
    const int width = ctx.image->bgr.cols, height = ctx.image->bgr.rows;
    float s_top = 0.f, s_bottom = 1e9f;
    for (const ScannedShape& x : shapes_) {
      s_top = std::max(s_top, x.s_hi);
      s_bottom = std::min(s_bottom, x.s_lo);
    }
    const float half_step = std::sqrt(opts_.scale_step);
    Proposals out;
    for (int level = 0;; ++level) {
      const float s = s_top / std::pow(opts_.scale_step, static_cast<float>(level));
      if (s < s_bottom / opts_.scale_step) break;
      const int lw = static_cast<int>(std::lround(width * s)), lh = static_cast<int>(std::lround(height * s));
      bool any_fits = false;
      for (const ScannedShape& x : shapes_) any_fits |= lw >= x.shape.width && lh >= x.shape.height;
      if (!any_fits) break;
      if (static_cast<double>(lw) * lh > kMaxLevelPixels) continue;
      // Boxes use the level's actual scale (rounded size / image size) so that they map back exactly.
      const float sx = static_cast<float>(lw) / width, sy = static_cast<float>(lh) / height;
      for (const ScannedShape& x : shapes_) {
        if (s < x.s_lo / half_step || s > x.s_hi * half_step) continue;
        const int w = x.shape.width, h = x.shape.height;
        for (int y = 0; y + h <= lh; y += opts_.stride)
          for (int xx = 0; xx + w <= lw; xx += opts_.stride)
            out.push_back({{xx / sx, y / sy, std::min((xx + w) / sx, static_cast<float>(width)),
                            std::min((y + h) / sy, static_cast<float>(height))},
                           0.f});
      }
    }
    if (static_cast<int>(out.size()) > opts_.max_proposals) {
      Proposals kept;
      kept.reserve(opts_.max_proposals);
      const double step = static_cast<double>(out.size()) / opts_.max_proposals;
      for (int i = 0; i < opts_.max_proposals; ++i) kept.push_back(out[static_cast<size_t>(i * step)]);
      out.swap(kept);
    }
    return out;
  }

  void fit(const Dataset& train) override {
    if (!opts_.windows.empty()) return;  // fixed shapes: nothing to learn
    shapes_.clear();
    class_window_.assign(train.num_classes(), 0);
    for (int c = 0; c < train.num_classes(); ++c) {
      std::vector<float> sizes, aspects;
      for (const ImageRecord& r : train.images)
        for (const Object& o : r.objects)
          if (o.label == c && !o.difficult && o.box.width() > 0 && o.box.height() > 0) {
            sizes.push_back(std::sqrt(o.box.width() * o.box.height()));
            aspects.push_back(o.box.width() / o.box.height());
          }
      ScannedShape s;
      const float a = aspects.empty() ? 1.f : quantile(aspects, 0.5f);
      s.shape = {aligned(std::sqrt(opts_.window_area * a)), aligned(std::sqrt(opts_.window_area / a))};
      if (!sizes.empty()) {
        const float root = std::sqrt(static_cast<float>(s.shape.width) * s.shape.height);
        s.s_hi = root / quantile(sizes, opts_.size_quantile);
        s.s_lo = root / quantile(sizes, 1.f - opts_.size_quantile);
      }
      int merged = -1;
      for (size_t k = 0; k < shapes_.size(); ++k)
        if (same_aspect(aspect(shapes_[k].shape), aspect(s.shape))) merged = static_cast<int>(k);
      if (merged < 0) {
        class_window_[c] = static_cast<int>(shapes_.size());
        shapes_.push_back(s);
      } else {
        class_window_[c] = merged;
        ScannedShape& m = shapes_[merged];
        if (!sizes.empty()) {  // widen the merged range to cover this class's objects as well
          const float r = std::sqrt(static_cast<float>(m.shape.width) * m.shape.height) /
                          std::sqrt(static_cast<float>(s.shape.width) * s.shape.height);
          m.s_lo = std::min(m.s_lo, s.s_lo * r);
          m.s_hi = std::max(m.s_hi, s.s_hi * r);
        }
      }
    }
  }

  void save(const std::filesystem::path& dir) const override {
    nlohmann::json j;
    j["windows"] = nlohmann::json::array();
    for (const ScannedShape& s : shapes_)
      j["windows"].push_back({s.shape.width, s.shape.height, s.s_lo, s.s_hi});
    j["class_window"] = class_window_;
    write_versioned_json(dir / kFile, "sliding_window", kFormatVersion, j);
  }

  void load(const std::filesystem::path& dir) override {
    const auto file = dir / kFile;
    const nlohmann::json j = read_versioned_json(file, "sliding_window", kFormatVersion);
    std::vector<ScannedShape> shapes;
    std::vector<int> class_window;
    read_json_fields(file, [&] {
      for (const auto& w : j.at("windows"))
        shapes.push_back({{w.at(0).get<int>(), w.at(1).get<int>()}, w.at(2).get<float>(), w.at(3).get<float>()});
      class_window = j.at("class_window").get<std::vector<int>>();
    });
    if (shapes.empty()) throw InputError(file.string(), "windows", "no window shapes");
    for (const ScannedShape& s : shapes)
      if (s.shape.width <= 0 || s.shape.height <= 0 || !(s.s_hi > 0.f))
        throw InputError(file.string(), "windows", "invalid window shape or scale range");
    for (int k : class_window)
      if (k < 0 || k >= static_cast<int>(shapes.size()))
        throw InputError(file.string(), "class_window", "window index out of range");
    shapes_ = std::move(shapes);
    class_window_ = std::move(class_window);
  }

 private:
  int aligned(float side) const {
    const int a = std::max(1, opts_.align);
    return a * std::max(2, static_cast<int>(std::lround(side / a)));  // >= 2 cells: one 2x2 HOG block
  }

  SlidingWindowOptions opts_;
  std::vector<ScannedShape> shapes_;
  std::vector<int> class_window_;  // learned: class -> index into shapes_
};

}  // namespace

SlidingWindowOptions parse_sliding_window(const Config& node) {
  SlidingWindowOptions o;
  if (node.has("windows")) {
    const Config w = node.child("windows");
    if (w.is_scalar()) {
      if (w.as<std::string>() != "auto")
        throw InputError(w.file(), w.path(), "expected auto, [w, h] or [[w, h], ...]");
    } else if (w.is_sequence() && w.size() > 0 && w.at(0).is_sequence()) {
      for (size_t i = 0; i < w.size(); ++i) {
        const auto v = w.at(i).as<std::vector<int>>();
        if (v.size() != 2) throw InputError(w.file(), w.at(i).path(), "expected [width, height]");
        o.windows.push_back({v[0], v[1]});
      }
    } else {
      const auto v = w.as<std::vector<int>>();
      if (v.size() != 2) throw InputError(w.file(), w.path(), "expected [width, height]");
      o.windows.push_back({v[0], v[1]});
    }
    for (const WindowShape& s : o.windows)
      if (s.width < 2 || s.height < 2) throw InputError(w.file(), w.path(), "window sides must be >= 2 pixels");
    for (size_t i = 0; i < o.windows.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (same_aspect(aspect(o.windows[i]), aspect(o.windows[j])))
          throw InputError(w.file(), w.path(),
                           "window shapes must differ in aspect ratio (by more than 5%): the pyramid already "
                           "covers sizes");
  }
  o.stride = static_cast<int>(get_at_least(node, "stride", o.stride, 1));
  o.scale_step = static_cast<float>(get_real(node, "scale_step", o.scale_step, {1.0, kUnbounded, true}));
  o.min_object = static_cast<float>(get_non_negative(node, "min_object", o.min_object));
  o.max_object = static_cast<float>(get_non_negative(node, "max_object", o.max_object));
  o.max_proposals = static_cast<int>(get_at_least(node, "max_proposals", o.max_proposals, 1));
  o.window_area = static_cast<int>(get_at_least(node, "window_area", o.window_area, 16));
  o.align = static_cast<int>(get_at_least(node, "align", o.align, 1));
  o.size_quantile = static_cast<float>(get_real(node, "size_quantile", o.size_quantile, {0.0, 0.5, false, true}));
  return o;
}

std::unique_ptr<ProposalStage> make_sliding_window(const SlidingWindowOptions& opts) {
  return std::make_unique<SlidingWindowProposals>(opts);
}

}  // namespace detlab
