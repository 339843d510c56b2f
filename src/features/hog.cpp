// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// hog feature stage: groups regions by pyramid level, cuts aligned windows from one grid per level, warps
// the rest.
#include "features/hog.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "config/checked.h"
#include "core/error.h"
#include "features/hog_backend.h"
#include "pipeline/allocator.h"
#include "pipeline/region_evidence.h"

namespace detlab {

namespace {

/// A box is taken as a window of a pyramid level when its size matches the window within this many level
/// pixels and its corner lies within this fraction of a cell of the cell grid: far below HOG's resolution,
/// far above float rounding of boxes that sliding_window computed from the same level.
constexpr float kSizeTolerancePx = 0.05f;
constexpr float kGridTolerance = 0.01f;
/// Aspect ratios (scale x vs scale y) closer than this name the same window shape.
constexpr float kAspectTolerance = 1.02f;
/// A warped box is cropped with this many cells of image beyond its descriptor: FHOG normalises each cell
/// with its neighbours' energies and both back ends need a pixel of gradient, so the descriptor's outer
/// cells then see what the fast path's see.
constexpr int kWarpExtraCells = 2;

int interpolation(float sx, float sy) { return sx * sy < 1.f ? cv::INTER_AREA : cv::INTER_LINEAR; }

class HogFeatures final : public FeatureStage, public WindowFeatures, public CellDecomposable {
 public:
  explicit HogFeatures(const HogOptions& opts) : opts_(opts) {
    backend_ = opts.backend == HogOptions::Backend::kOpenCv ? make_opencv_hog_backend(opts.cell, opts.block, opts.bins)
                                                            : make_dlib_hog_backend(opts.cell);
    set_window_shapes({opts.window});
  }

  std::string_view name() const override { return "hog"; }

  void set_window_shapes(const std::vector<WindowShape>& shapes) override {
    const std::vector<WindowShape> use = shapes.empty() ? std::vector<WindowShape>{opts_.window} : shapes;
    shapes_.clear();
    for (const WindowShape& w : use) {
      DETLAB_REQUIRE(w.width > 0 && w.height > 0, "window shape must be positive", w.width, w.height);
      Shape s;
      s.px = w;
      s.wc = std::max(backend_->min_window_cells(), static_cast<int>(std::lround(float(w.width) / opts_.cell)));
      s.hc = std::max(backend_->min_window_cells(), static_cast<int>(std::lround(float(w.height) / opts_.cell)));
      s.aligned = w.width == s.wc * opts_.cell && w.height == s.hc * opts_.cell;
      s.dwc = s.wc + 2 * opts_.context;
      s.dhc = s.hc + 2 * opts_.context;
      s.dim = backend_->dim(s.dwc, s.dhc);
      shapes_.push_back(s);
    }
  }

  RegionFeatures extract(const ImageContext& ctx, const Proposals& proposals) override {
    return run(ctx, proposals, nullptr);
  }
  RegionFeatures extract_as(const ImageContext& ctx, const Proposals& proposals,
                            const std::vector<int>& groups) override {
    DETLAB_REQUIRE(groups.size() == proposals.size(), "one group per region", groups.size(), proposals.size());
    for (int g : groups)
      DETLAB_REQUIRE(g >= 0 && g < static_cast<int>(shapes_.size()), "group out of range", g, shapes_.size());
    return run(ctx, proposals, &groups);
  }

  RegionCells decompose(const ImageContext& ctx, const Proposal& proposal, int group,
                        const std::vector<float>& weight) override {
    const RegionFeatures f = extract_as(ctx, {proposal}, {group});
    const Shape& s = shapes_.at(static_cast<size_t>(group));
    DETLAB_REQUIRE(static_cast<int>(weight.size()) == s.dim, "one weight per descriptor entry", weight.size(), s.dim);
    std::vector<float> product(static_cast<size_t>(s.dim));
    const float* d = f.host.ptr<float>(0);
    for (int i = 0; i < s.dim; ++i) product[static_cast<size_t>(i)] = weight[static_cast<size_t>(i)] * d[i];
    // The window's cells tile the box (fast path: the box is the window at its level; warp: the box is resized
    // to the window), and the context cells extend it by as many cells on every side.
    const Box& b = proposal.box;
    const float cw = (b.x2 - b.x1) / static_cast<float>(s.wc), ch = (b.y2 - b.y1) / static_cast<float>(s.hc);
    const float mx = cw * static_cast<float>(opts_.context), my = ch * static_cast<float>(opts_.context);
    return {backend_->cell_sums(product.data(), s.dwc, s.dhc), Box{b.x1 - mx, b.y1 - my, b.x2 + mx, b.y2 + my}};
  }

 private:
  struct Shape {
    WindowShape px;
    int wc = 0, hc = 0;    // the window, in cells
    int dwc = 0, dhc = 0;  // the descriptor: window plus context cells on every side
    bool aligned = false;
    int dim = 0;
  };
  struct Cut {
    int row, cx, cy, k;
  };

  RegionFeatures run(const ImageContext& ctx, const Proposals& proposals, const std::vector<int>* forced) const {
    DETLAB_REQUIRE(ctx.image && ctx.image->bgr.type() == CV_8UC3, "hog needs a CV_8UC3 image");
    const cv::Mat& img = ctx.image->bgr;
    const int n = static_cast<int>(proposals.size());
    int dmax = 0;
    for (const Shape& s : shapes_) dmax = std::max(dmax, s.dim);
    RegionFeatures out;
    out.host = zeros_large(n, dmax, CV_32F);
    out.groups.resize(n);
    for (const Shape& s : shapes_) out.group_dims.push_back(s.dim);

    std::map<std::pair<int, int>, std::vector<Cut>> levels;  // level size -> windows cut from its grid
    std::vector<int> warped;
    for (int i = 0; i < n; ++i) {
      const Box& b = proposals[i].box;
      Cut cut{i, 0, 0, -1};
      std::pair<int, int> level;
      if (forced) {
        if (align(b, (*forced)[i], img.cols, img.rows, cut, level)) cut.k = (*forced)[i];
      } else {
        for (int k = 0; k < static_cast<int>(shapes_.size()) && cut.k < 0; ++k)
          if (align(b, k, img.cols, img.rows, cut, level)) cut.k = k;
      }
      if (cut.k >= 0) {
        out.groups[i] = cut.k;
        levels[level].push_back(cut);
      } else {
        out.groups[i] = forced ? (*forced)[i] : closest_shape(b);
        warped.push_back(i);
      }
    }

    std::vector<const std::pair<const std::pair<int, int>, std::vector<Cut>>*> jobs;
    for (const auto& kv : levels) jobs.push_back(&kv);
    // One task per level, then one per warped box; each writes only its own rows of out.host.
    cv::parallel_for_(cv::Range(0, static_cast<int>(jobs.size() + warped.size())), [&](const cv::Range& r) {
      for (int j = r.start; j < r.end; ++j) {
        if (j < static_cast<int>(jobs.size())) {
          const auto& [size, cuts] = *jobs[j];
          cv::Mat level;
          cv::resize(img, level, cv::Size(size.first, size.second), 0, 0,
                     interpolation(float(size.first) / img.cols, float(size.second) / img.rows));
          // Context around windows at the level's edge comes from replicated border pixels; the padding
          // is a whole number of cells, so level cell (x, y) is grid cell (x + context, y + context).
          const int pad = opts_.context * opts_.cell;
          if (pad > 0) cv::copyMakeBorder(level, level, pad, pad, pad, pad, cv::BORDER_REPLICATE);
          const std::unique_ptr<HogGrid> grid = backend_->compute(level);
          for (const Cut& c : cuts) {
            const Shape& s = shapes_[c.k];
            grid->window(c.cx, c.cy, s.dwc, s.dhc, out.host.ptr<float>(c.row));
          }
        } else {
          const int row = warped[j - jobs.size()];
          warp(img, proposals[row].box, shapes_[out.groups[row]], out.host.ptr<float>(row));
        }
      }
    });
    return out;
  }

  /// Is b exactly a window of shape k at some pyramid level of an img_w x img_h image? Fills the level size
  /// and the window's cell.
  bool align(const Box& b, int k, int img_w, int img_h, Cut& cut, std::pair<int, int>& level) const {
    const Shape& s = shapes_[k];
    const float bw = b.width(), bh = b.height();
    if (!s.aligned || bw <= 0 || bh <= 0) return false;
    const float sx = s.px.width / bw, sy = s.px.height / bh;
    if (std::max(sx, sy) / std::min(sx, sy) > kAspectTolerance) return false;
    const int lw = static_cast<int>(std::lround(img_w * sx)), lh = static_cast<int>(std::lround(img_h * sy));
    if (lw < s.px.width || lh < s.px.height) return false;
    const float ax = float(lw) / img_w, ay = float(lh) / img_h;  // the level's actual scales
    if (std::fabs(bw * ax - s.px.width) > kSizeTolerancePx || std::fabs(bh * ay - s.px.height) > kSizeTolerancePx)
      return false;
    const float fx = b.x1 * ax / opts_.cell, fy = b.y1 * ay / opts_.cell;
    const int cx = static_cast<int>(std::lround(fx)), cy = static_cast<int>(std::lround(fy));
    if (std::fabs(fx - cx) > kGridTolerance || std::fabs(fy - cy) > kGridTolerance) return false;
    if (cx < 0 || cy < 0 || cx + s.wc > lw / opts_.cell || cy + s.hc > lh / opts_.cell) return false;
    cut.cx = cx;
    cut.cy = cy;
    level = {lw, lh};
    return true;
  }

  int closest_shape(const Box& b) const {
    const float a = std::log(std::max(b.width(), 1e-3f) / std::max(b.height(), 1e-3f));
    int best = 0;
    float best_d = 1e30f;
    for (int k = 0; k < static_cast<int>(shapes_.size()); ++k) {
      const float d = std::fabs(a - std::log(float(shapes_[k].wc) / shapes_[k].hc));
      if (d < best_d) best_d = d, best = k;
    }
    return best;
  }

  /// Describes b alone: crop it with context + kWarpExtraCells cells of margin (border pixels replicated
  /// outside the image), resize so that b becomes the window, and cut the descriptor from the patch's grid.
  void warp(const cv::Mat& img, const Box& b, const Shape& s, float* out) const {
    const int cell = opts_.cell, m = opts_.context + kWarpExtraCells;
    const float bw = std::max(b.width(), 1.f), bh = std::max(b.height(), 1.f);
    const float sx = float(s.wc * cell) / bw, sy = float(s.hc * cell) / bh;
    const float ex1 = b.x1 - m * cell / sx, ey1 = b.y1 - m * cell / sy;
    const float ex2 = b.x1 + bw + m * cell / sx, ey2 = b.y1 + bh + m * cell / sy;
    // Integer crop one pixel wider than the margin on each side, so rounding never runs out of pixels.
    const int ix1 = static_cast<int>(std::floor(ex1)) - 1, iy1 = static_cast<int>(std::floor(ey1)) - 1;
    const int ix2 = static_cast<int>(std::ceil(ex2)) + 1, iy2 = static_cast<int>(std::ceil(ey2)) + 1;
    const int vx1 = std::clamp(ix1, 0, img.cols - 1), vy1 = std::clamp(iy1, 0, img.rows - 1);
    const int vx2 = std::clamp(ix2, vx1 + 1, img.cols), vy2 = std::clamp(iy2, vy1 + 1, img.rows);
    cv::Mat crop;
    cv::copyMakeBorder(img(cv::Rect(vx1, vy1, vx2 - vx1, vy2 - vy1)), crop, vy1 - iy1, std::max(0, iy2 - vy2),
                       vx1 - ix1, std::max(0, ix2 - vx2), cv::BORDER_REPLICATE);
    const int dw = std::max(1, static_cast<int>(std::lround(crop.cols * sx)));
    const int dh = std::max(1, static_cast<int>(std::lround(crop.rows * sy)));
    cv::Mat resized;
    cv::resize(crop, resized, cv::Size(dw, dh), 0, 0, interpolation(sx, sy));
    const int ox = static_cast<int>(std::lround((ex1 - ix1) * dw / crop.cols));
    const int oy = static_cast<int>(std::lround((ey1 - iy1) * dh / crop.rows));
    const int pw = (s.wc + 2 * m) * cell, ph = (s.hc + 2 * m) * cell;
    if (ox + pw > resized.cols || oy + ph > resized.rows)
      cv::copyMakeBorder(resized, resized, 0, std::max(0, oy + ph - resized.rows), 0,
                         std::max(0, ox + pw - resized.cols), cv::BORDER_REPLICATE);
    const std::unique_ptr<HogGrid> grid = backend_->compute(resized(cv::Rect(ox, oy, pw, ph)));
    grid->window(kWarpExtraCells, kWarpExtraCells, s.dwc, s.dhc, out);
  }

  HogOptions opts_;
  std::unique_ptr<HogBackend> backend_;
  std::vector<Shape> shapes_;
};

}  // namespace

HogOptions parse_hog(const Config& node) {
  HogOptions o;
  o.backend = get_named(node, "backend", o.backend,
                        {{"opencv", HogOptions::Backend::kOpenCv}, {"dlib", HogOptions::Backend::kDlib}});
  o.cell = static_cast<int>(get_at_least(node, "cell", o.cell, 2));
  o.block = static_cast<int>(get_at_least(node, "block", o.block, 1));
  o.bins = static_cast<int>(get_at_least(node, "bins", o.bins, 2));
  o.context = static_cast<int>(get_at_least(node, "context", o.context, 0));
  if (node.has("window")) {
    const auto w = node.get<std::vector<int>>("window");
    if (w.size() != 2 || w[0] < 1 || w[1] < 1)
      throw InputError(node.file(), node.child_path("window"), "expected [width, height] in pixels");
    o.window = {w[0], w[1]};
  }
  if (o.window.width < o.block * o.cell || o.window.height < o.block * o.cell)
    config_error(node, "window", "must be at least one block (block x cell pixels) per side");
  return o;
}

std::unique_ptr<FeatureStage> make_hog(const HogOptions& opts) { return std::make_unique<HogFeatures>(opts); }

}  // namespace detlab
