// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Figure writers shared by `detlab visualize` and the gallery.
#include "viz/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "viz/filters.h"
#include "viz/scatter_plot.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

void write_json(const fs::path& file, const nlohmann::json& j) { write_file_atomic(file, j.dump(2) + "\n"); }

std::string value_label(const std::string& method) {
  if (method == "grad_cam") return "Grad-CAM";
  if (method == "cam") return "class activation";
  if (method == "saliency" || method == "smoothgrad") return "|d score / d pixel|";
  if (method == "occlusion") return "score drop";
  if (method == "activation") return "mean activation";
  return method;
}

cv::Mat with_boxes(const cv::Mat& bgr, const std::vector<Box>& boxes) {
  if (boxes.empty()) return bgr;
  cv::Mat out = bgr.clone();
  const int t = std::max(2, bgr.cols / 320);  // visible at any size, thin enough not to hide the map
  for (const Box& b : boxes)
    cv::rectangle(out, cv::Point(static_cast<int>(std::lround(b.x1)), static_cast<int>(std::lround(b.y1))),
                  cv::Point(static_cast<int>(std::lround(b.x2)), static_cast<int>(std::lround(b.y2))),
                  cv::Scalar(255, 255, 0), t, cv::LINE_AA);
  return out;
}

double percentile(const cv::Mat& values, double q) {
  std::vector<float> v(values.begin<float>(), values.end<float>());
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

std::string method_title(const std::string& method) {
  if (method == "grad_cam") return "Grad-CAM";
  if (method == "cam") return "CAM";
  if (method == "saliency") return "Saliency (vanilla gradient)";
  if (method == "smoothgrad") return "SmoothGrad";
  if (method == "occlusion") return "Occlusion";
  if (method == "activation") return "Activations";
  return method;
}

void save_heatmap(const Heatmap& map, ScoreModel& model, const ModelInput& in, const fs::path& dir,
                  const std::string& stem, const FigureOptions& fig, const std::vector<Box>& boxes,
                  const std::string& subtitle) {
  const cv::Mat values = heatmap_to_image(map, model, in.meta);
  double lo = 0, hi = 0;
  cv::minMaxLoc(values, &lo, &hi);
  HeatmapStyle style;
  style.colormap = fig.colormap;
  style.alpha = fig.alpha;
  style.show_input = fig.show_input;
  style.value_label = value_label(map.method);
  style.lo = std::min(0.0, lo);  // non-negative maps start their bar at 0: "no evidence" is the darkest colour
  style.hi = hi;
  std::string sub = subtitle;
  if (map.method == "saliency" || map.method == "smoothgrad") {
    // Gradient maps have a few extreme pixels; Smilkov et al. cap the display at the 99th percentile.
    const double p99 = percentile(values, 0.99);
    if (p99 > style.lo && p99 < hi) {
      style.hi = p99;
      sub += std::string(sub.empty() ? "" : "; ") + "colours capped at the 99th percentile (max " + format_number(hi) + ")";
    }
  }
  std::string title = method_title(map.method);
  if (!map.layer.empty()) title += " | layer " + map.layer;
  if (map.target >= 0) {
    char score[32];
    std::snprintf(score, sizeof(score), "%.3g", map.score);
    title += " | " + map.target_name + " (score " + score + ")";
  }
  const cv::Mat body = render_heatmap(with_boxes(in.bgr, boxes), values, style);
  fs::create_directories(dir);
  write_png(dir / (stem + ".png"), add_title(body, title, sub));
  write_csv(dir / (stem + ".csv"), to_mat(map.values));
  nlohmann::json j;
  j["method"] = map.method;
  j["grid"] = map.grid == Heatmap::Grid::kLayer ? "layer" : "input";
  j["layer"] = map.layer;
  j["target"] = map.target;
  j["target_name"] = map.target_name;
  j["score"] = map.score;
  j["rows"] = map.values.size(0);
  j["cols"] = map.values.size(1);
  j["min"] = map.values.min().item<double>();
  j["max"] = map.values.max().item<double>();
  if (map.grid == Heatmap::Grid::kLayer) {
    const LayerGeometry g = model.geometry(map.layer);
    j["stride"] = g.stride;
    j["offset"] = g.offset;
    j["receptive_field"] = g.size;
  }
  j["image"] = {{"width", in.meta.orig_width},
                {"height", in.meta.orig_height},
                {"scale_x", in.meta.scale_x},
                {"scale_y", in.meta.scale_y},
                {"network_width", in.meta.width},
                {"network_height", in.meta.height}};
  write_json(dir / (stem + ".json"), j);
}

void save_filters(ScoreModel& model, const fs::path& dir, const std::string& stem) {
  const FilterBank bank = first_layer_filters(model.module());
  const cv::Mat grid = render_filters(bank, model.transform());
  const torch::Tensor w = bank.weight;
  char shape[96];
  std::snprintf(shape, sizeof(shape), "%lld kernels of %lld x %lld x %lld; grey = 0, each scaled by its max |w|",
                static_cast<long long>(w.size(0)), static_cast<long long>(w.size(1)), static_cast<long long>(w.size(2)),
                static_cast<long long>(w.size(3)));
  write_png(dir / (stem + ".png"), add_title(grid, "First-layer filters (" + bank.name + ")", shape));
  write_csv(dir / (stem + ".csv"), to_mat(w.reshape({w.size(0), -1})));
}

void save_activations(const ActivationMaps& a, ScoreModel& model, const ModelInput& in, const fs::path& dir,
                      const std::string& stem, const FigureOptions& fig) {
  const cv::Mat grid = render_activation_grid(a);
  const cv::Mat values = heatmap_to_image(a.mean, model, in.meta);
  double lo = 0, hi = 0;
  cv::minMaxLoc(values, &lo, &hi);
  HeatmapStyle style;
  style.colormap = fig.colormap;
  style.alpha = fig.alpha;
  style.show_input = false;
  style.value_label = "mean activation";
  style.lo = std::min(0.0, lo);
  style.hi = hi;
  const cv::Mat overlay = render_heatmap(in.bgr, values, style);
  // Side by side: the overlay (left), the channel grid (right), on one white canvas.
  cv::Mat out(std::max(overlay.rows, grid.rows), overlay.cols + grid.cols + 10, CV_8UC3, cv::Scalar(255, 255, 255));
  overlay.copyTo(out(cv::Rect(0, 0, overlay.cols, overlay.rows)));
  grid.copyTo(out(cv::Rect(overlay.cols + 10, 0, grid.cols, grid.rows)));
  const std::string title = "Activations | layer " + a.layer;
  const std::string sub = "left: mean over all " + std::to_string(model.geometry(a.layer).channels) +
                          " channels on the image; right: the " + std::to_string(a.channels.size()) +
                          " most active channels (shared scale)";
  write_png(dir / (stem + ".png"), add_title(out, title, sub));
  write_csv(dir / (stem + ".csv"), to_mat(a.mean.values));
}

void save_top_patches(const TopPatches& t, const Dataset& images, const fs::path& dir, const std::string& stem) {
  const cv::Mat grid = render_top_patches(t, images);
  std::string sub = "receptive field " + std::to_string(t.geometry.size) + " px (network input), stride " +
                    std::to_string(t.geometry.stride);
  if (t.max_patch > 0 && t.max_patch < t.geometry.size) sub += ", patches its central " + std::to_string(t.max_patch) + " px";
  sub += "; one patch per image, captions = activation";
  write_png(dir / (stem + ".png"), add_title(grid, "Maximally activating patches | layer " + t.layer, sub));
  write_file_atomic(dir / (stem + ".csv"), [&](std::ostream& os) {
    os << "channel,rank,image,row,col,activation,x1,y1,x2,y2\n";
    for (const auto& row : t.patches)
      for (size_t r = 0; r < row.size(); ++r) {
        const Patch& p = row[r];
        os << p.channel << "," << r << "," << images.images.at(static_cast<size_t>(p.image)).name << "," << p.row << ","
           << p.col << "," << p.value << "," << p.box.x1 << "," << p.box.y1 << "," << p.box.x2 << "," << p.box.y2
           << "\n";
      }
  });
}

void save_tsne(const TsneResult& r, const Embeddings& e, const fs::path& dir, const std::string& stem,
               const std::string& title) {
  ScatterStyle s;
  s.title = title;
  char sub[160];
  std::snprintf(sub, sizeof(sub), "%lld points of %lld dimensions, %s, perplexity %.3g%s",
                static_cast<long long>(e.features.size(0)), static_cast<long long>(e.features.size(1)),
                r.exact ? "exact t-SNE" : "Barnes-Hut t-SNE", r.perplexity,
                std::isnan(r.kl) ? "" : (", KL " + format_number(r.kl)).c_str());
  s.subtitle = sub;
  write_png(dir / (stem + ".png"), render_scatter(r.embedding, e.labels, e.class_names, s));
  write_file_atomic(dir / (stem + ".csv"), [&](std::ostream& os) {
    os << "x,y,label,class\n";
    const torch::Tensor y = r.embedding.contiguous();
    for (int64_t i = 0; i < y.size(0); ++i) {
      const int l = e.labels[static_cast<size_t>(i)];
      os << y[i][0].item<float>() << "," << y[i][1].item<float>() << "," << l << ","
         << e.class_names[static_cast<size_t>(l)] << "\n";
    }
  });
}

void save_class_images(const std::vector<ClassImageResult>& results, const std::vector<std::string>& names,
                       const TransformOptions& transform, const fs::path& dir, const std::string& stem,
                       const std::string& title) {
  DETLAB_REQUIRE(!results.empty() && results.size() == names.size(), results.size(), names.size());
  std::vector<cv::Mat> tiles;
  std::vector<std::string> captions;
  int tile = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    tiles.push_back(to_bgr(results[i].image, transform));
    tile = std::max({tile, tiles.back().cols, tiles.back().rows});
    captions.push_back(names[i] + " " + format_number(results[i].scores.front()) + " -> " +
                       format_number(results[i].scores.back()));
  }
  tile = std::max(160, std::min(320, 2 * tile));  // enlarged for viewing; detector inputs are shrunk to fit
  const int cols = static_cast<int>(std::min<size_t>(4, results.size()));
  const std::string sub = std::to_string(results.front().scores.size() - 1) +
                          " steps of gradient ascent (L2 decay, jitter, blur); captions: score at start -> end";
  write_png(dir / (stem + ".png"), add_title(tile_grid(tiles, captions, cols, tile), title, sub));
  write_file_atomic(dir / (stem + ".csv"), [&](std::ostream& os) {
    os << "step";
    for (const auto& n : names) os << "," << n;
    os << "\n";
    for (size_t s = 0; s < results.front().scores.size(); ++s) {
      os << s;
      for (const auto& r : results) os << "," << (s < r.scores.size() ? r.scores[s] : std::nan(""));
      os << "\n";
    }
  });
}

}  // namespace detlab
