// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// top_patches: per-image channel maxima over a data set, receptive-field crops.
#include "viz/top_patches.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <opencv2/imgproc.hpp>

#include "core/error.h"
#include "core/progress.h"
#include "viz/receptive_field.h"
#include "viz/render.h"

namespace detlab {

TopPatches top_patches(ScoreModel& model, const Dataset& images, const std::vector<int>& indices,
                       const TopPatchesOptions& opts) {
  DETLAB_REQUIRE(opts.top_k >= 1 && opts.num_channels >= 1, opts.top_k, opts.num_channels);
  TopPatches r;
  r.layer = opts.layer.empty() ? model.default_layer() : opts.layer;
  model.require_layer(r.layer, "--layer");
  r.geometry = model.geometry(r.layer);
  r.max_patch = opts.max_patch;
  const int64_t c = r.geometry.channels;
  if (opts.channels.empty()) {
    for (int64_t k = 0; k < std::min<int64_t>(opts.num_channels, c); ++k) r.channels.push_back(k);
  } else {
    for (int64_t ch : opts.channels) {
      if (ch < 0 || ch >= c)
        throw InputError("", "--channels", "channel " + std::to_string(ch) + " out of range: layer " + r.layer +
                                              " has " + std::to_string(c) + " channels");
      r.channels.push_back(ch);
    }
  }
  const torch::Tensor sel = torch::tensor(r.channels, torch::kLong);
  std::vector<std::vector<Patch>> best(r.channels.size());
  torch::NoGradGuard no_grad;
  model.module().eval();
  ProgressBar bar("top patches", static_cast<int64_t>(indices.size()), "img");
  for (int idx : indices) {
    DETLAB_REQUIRE(idx >= 0 && static_cast<size_t>(idx) < images.images.size(), idx, images.images.size());
    const auto at = static_cast<size_t>(idx);
    const ModelInput in = make_input(images.load_image(at), model, images.images.at(at).name);
    const torch::Tensor a = model.features(in.tensor).at(r.layer)[0].index_select(0, sel.to(in.tensor.device()));
    // Cells centred inside the image (not in the padding).
    const int64_t h = std::min<int64_t>(a.size(1), std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                                       (in.meta.height - r.geometry.offset) / r.geometry.stride))));
    const int64_t w = std::min<int64_t>(a.size(2), std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                                       (in.meta.width - r.geometry.offset) / r.geometry.stride))));
    const torch::Tensor valid = a.narrow(1, 0, h).narrow(2, 0, w).reshape({a.size(0), -1}).to(torch::kCPU);
    const auto [vals, pos] = valid.max(1);
    for (size_t k = 0; k < r.channels.size(); ++k) {
      Patch p;
      p.channel = r.channels[k];
      p.value = vals[static_cast<int64_t>(k)].item<double>();
      p.image = idx;
      const int64_t flat = pos[static_cast<int64_t>(k)].item<int64_t>();
      p.row = flat / w;
      p.col = flat % w;
      auto win = receptive_window(r.geometry, p.row, p.col);
      if (opts.max_patch > 0 && r.geometry.size > opts.max_patch) {
        const double cx = 0.5 * (win[0] + win[2]), cy = 0.5 * (win[1] + win[3]), half = 0.5 * opts.max_patch;
        win = {cx - half, cy - half, cx + half, cy + half};
      }
      p.box = Box{static_cast<float>(win[0] / in.meta.scale_x), static_cast<float>(win[1] / in.meta.scale_y),
                  static_cast<float>(win[2] / in.meta.scale_x), static_cast<float>(win[3] / in.meta.scale_y)};
      std::vector<Patch>& list = best[k];
      list.push_back(p);
      std::sort(list.begin(), list.end(), [](const Patch& x, const Patch& y) { return x.value > y.value; });
      if (static_cast<int>(list.size()) > opts.top_k) list.pop_back();
    }
    bar.tick();
  }
  bar.finish();
  r.patches = std::move(best);
  return r;
}

cv::Mat render_top_patches(const TopPatches& t, const Dataset& images, int tile) {
  DETLAB_REQUIRE(!t.patches.empty(), "no channels");
  size_t cols = 0;
  for (const auto& row : t.patches) cols = std::max(cols, row.size());
  std::vector<cv::Mat> tiles;
  std::vector<std::string> captions;
  std::map<int, cv::Mat> cache;
  for (size_t k = 0; k < t.patches.size(); ++k) {
    cv::Mat label(tile, tile, CV_8UC3, cv::Scalar(255, 255, 255));
    const std::string name = "ch " + std::to_string(t.channels[k]);
    draw_text(label, name, std::max(0, (tile - text_size(name).width) / 2), tile / 2 + 5);
    tiles.push_back(label);
    captions.push_back("");
    for (size_t j = 0; j < cols; ++j) {
      if (j >= t.patches[k].size()) {
        tiles.push_back(cv::Mat(tile, tile, CV_8UC3, cv::Scalar(255, 255, 255)));
        captions.push_back("");
        continue;
      }
      const Patch& p = t.patches[k][j];
      auto it = cache.find(p.image);
      if (it == cache.end()) it = cache.emplace(p.image, images.load_image(static_cast<size_t>(p.image))).first;
      const cv::Mat& img = it->second;
      const int x1 = static_cast<int>(std::floor(p.box.x1)), y1 = static_cast<int>(std::floor(p.box.y1));
      const int x2 = std::max(x1 + 1, static_cast<int>(std::ceil(p.box.x2)));
      const int y2 = std::max(y1 + 1, static_cast<int>(std::ceil(p.box.y2)));
      cv::Mat padded;  // the window may leave the image: the outside is shown grey (the network saw padding there)
      const int l = std::max(0, -x1), tp = std::max(0, -y1), rt = std::max(0, x2 - img.cols), bt = std::max(0, y2 - img.rows);
      cv::copyMakeBorder(img, padded, tp, bt, l, rt, cv::BORDER_CONSTANT, cv::Scalar(128, 128, 128));
      tiles.push_back(padded(cv::Rect(x1 + l, y1 + tp, x2 - x1, y2 - y1)).clone());
      captions.push_back(format_number(p.value));
    }
  }
  return tile_grid(tiles, captions, static_cast<int>(cols) + 1, tile);
}

}  // namespace detlab
