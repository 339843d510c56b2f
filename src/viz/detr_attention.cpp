// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DETR's attention figures: recorded attention rows as maps on the original image, and their pictures.
#include "viz/detr_attention.h"

#include <torch/nn/functional/upsampling.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "nn/detr/detr.h"
#include "nn/detr/position_encoding.h"
#include "nn/ops/boxes.h"
#include "viz/heatmap.h"

namespace detlab {

namespace fs = std::filesystem;

namespace {

/// A token row (S = h w, row-major) as a map on the original image: the grid covers the padded network input
/// (token (i, j) centred at ((j + 0.5) H / h, (i + 0.5) W / w), DETR's own cell convention for its positions),
/// upsampled bilinearly, then the padding cut off and the resize undone.
cv::Mat token_map_to_image(const torch::Tensor& row, int64_t h, int64_t w, const ModelInput& in) {
  namespace F = torch::nn::functional;
  const torch::Tensor grid = row.to(torch::kCPU, torch::kFloat).reshape({1, 1, h, w});
  const torch::Tensor up = F::interpolate(
      grid, F::InterpolateFuncOptions()
                .size(std::vector<int64_t>{in.tensor.size(2), in.tensor.size(3)})
                .mode(torch::kBilinear)
                .align_corners(false));
  return input_map_to_image(up[0][0], in.meta);
}

int pick_layer(int requested, int64_t count, const char* what) {
  if (requested < 0) return static_cast<int>(count) - 1;
  if (requested >= count)
    throw InputError("", what, "layer " + std::to_string(requested) + " of " + std::to_string(count) + " (0-based)");
  return requested;
}

std::string object_caption(const AttendedObject& o, const std::vector<std::string>& names) {
  char buf[96];
  const std::string name = o.label >= 0 && o.label < static_cast<int>(names.size())
                               ? names[static_cast<size_t>(o.label)]
                               : std::to_string(o.label);
  std::snprintf(buf, sizeof buf, "%s %.2f (query %lld)", name.c_str(), o.score, static_cast<long long>(o.query));
  return buf;
}

cv::Mat overlay(const cv::Mat& bgr, const cv::Mat& values, Colormap colormap) {
  double lo = 0, hi = 0;
  cv::minMaxLoc(values, &lo, &hi);
  cv::Mat colours = hi > 0 ? apply_colormap(values, 0.0, hi, colormap) : cv::Mat(bgr.size(), CV_8UC3, cv::Scalar(0, 0, 0));
  cv::Mat out;
  cv::addWeighted(bgr, 0.4, colours, 0.6, 0.0, out);
  return out;
}

void draw_box(cv::Mat& picture, const Box& b, const cv::Scalar& colour) {
  const int t = std::max(2, picture.cols / 320);
  cv::rectangle(picture, cv::Point(static_cast<int>(std::lround(b.x1)), static_cast<int>(std::lround(b.y1))),
                cv::Point(static_cast<int>(std::lround(b.x2)), static_cast<int>(std::lround(b.y2))), colour, t,
                cv::LINE_AA);
}

}  // namespace

DetrAttention detr_attention(Detr& model, const ModelInput& in, const DetrAttentionOptions& o) {
  DETLAB_REQUIRE(in.tensor.dim() == 4 && in.tensor.size(0) == 1, "one prepared image", in.tensor.sizes());
  DETLAB_REQUIRE(o.max_objects >= 0, o.max_objects);
  torch::NoGradGuard no_grad;
  model.eval();
  const std::vector<ImageSize> sizes{{in.meta.height, in.meta.width}};
  const torch::Tensor features = model.backbone()->forward(in.tensor).at(model.feature());
  const torch::Tensor mask = resize_mask(padding_mask(sizes, in.tensor.size(2), in.tensor.size(3),
                                                              in.tensor.device()),
                                             features.size(2), features.size(3));
  Transformer& transformer = model.transformer();
  transformer.set_record_attention(true);
  DetrOutputs out;
  try {
    out = model.forward_features(features, mask);
  } catch (...) {
    transformer.set_record_attention(false);
    throw;
  }
  const Transformer::Attention recorded = transformer.attention();
  transformer.set_record_attention(false);

  DetrAttention a;
  a.grid_height = features.size(2);
  a.grid_width = features.size(3);
  a.encoder_layers = static_cast<int64_t>(recorded.encoder.size());
  a.decoder_layers = static_cast<int64_t>(recorded.decoder.size());
  a.decoder_layer = pick_layer(o.decoder_layer, a.decoder_layers, "--decoder-layer");
  if (a.encoder_layers > 0) a.encoder_layer = pick_layer(o.encoder_layer, a.encoder_layers, "--encoder-layer");

  // DETR's post-processing (Detr::detect): per query the best object class, boxes scaled to the image.
  using torch::indexing::Slice;
  const int64_t k = model.num_classes();
  const torch::Tensor logits = out.logits[-1][0];
  const torch::Tensor prob = model.options().criterion.focal ? logits.sigmoid() : logits.softmax(-1);
  auto [scores, labels] = prob.index({Slice(), Slice(0, k)}).max(-1);
  const double h = static_cast<double>(in.meta.height), w = static_cast<double>(in.meta.width);
  torch::Tensor boxes = box_convert(out.boxes[-1][0], "cxcywh", "xyxy") *
                        torch::tensor({w, h, w, h}, out.boxes.options());
  boxes = clip_boxes_to_image(boxes, in.meta.height, in.meta.width).to(torch::kCPU, torch::kFloat);
  const torch::Tensor order = std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true)).to(torch::kCPU);
  const torch::Tensor cross = recorded.decoder.at(static_cast<size_t>(a.decoder_layer))[0];  // Q x S
  const auto sx = static_cast<float>(in.meta.scale_x), sy = static_cast<float>(in.meta.scale_y);
  for (int64_t r = 0; r < order.size(0) && static_cast<int>(a.objects.size()) < o.max_objects; ++r) {
    const int64_t q = order[r].item<int64_t>();
    const float score = scores[q].item<float>();
    if (score < o.min_score) break;
    AttendedObject obj;
    obj.query = q;
    obj.score = score;
    obj.label = static_cast<int>(labels[q].item<int64_t>());
    const auto b = boxes[q];
    obj.image_box = {b[0].item<float>() / sx, b[1].item<float>() / sy, b[2].item<float>() / sx, b[3].item<float>() / sy};
    obj.map = token_map_to_image(cross[q], a.grid_height, a.grid_width, in);
    a.objects.push_back(std::move(obj));
  }

  std::vector<cv::Point2f> points = o.points;
  if (points.empty())
    for (const AttendedObject& obj : a.objects)
      points.emplace_back(0.5f * (obj.image_box.x1 + obj.image_box.x2), 0.5f * (obj.image_box.y1 + obj.image_box.y2));
  if (a.encoder_layers > 0) {
    const torch::Tensor self = recorded.encoder.at(static_cast<size_t>(a.encoder_layer))[0];  // S x S
    const double cell_h = static_cast<double>(in.tensor.size(2)) / static_cast<double>(a.grid_height);
    const double cell_w = static_cast<double>(in.tensor.size(3)) / static_cast<double>(a.grid_width);
    for (const cv::Point2f& p : points) {
      if (!(p.x >= 0 && p.y >= 0 && p.x < in.meta.orig_width && p.y < in.meta.orig_height))
        throw InputError("", "--points", "point (" + std::to_string(p.x) + ", " + std::to_string(p.y) +
                                             ") lies outside the image");
      const int64_t i = std::min<int64_t>(a.grid_height - 1, static_cast<int64_t>(p.y * sy / cell_h));
      const int64_t j = std::min<int64_t>(a.grid_width - 1, static_cast<int64_t>(p.x * sx / cell_w));
      AttendedPoint ap;
      ap.point = p;
      ap.token = i * a.grid_width + j;
      ap.map = token_map_to_image(self[ap.token], a.grid_height, a.grid_width, in);
      a.points.push_back(std::move(ap));
    }
  }
  return a;
}

void save_detr_attention(const DetrAttention& a, const ModelInput& in, const std::vector<std::string>& class_names,
                         const fs::path& dir, const std::string& stem, Colormap colormap) {
  fs::create_directories(dir);
  const std::string grid = std::to_string(a.grid_height) + " x " + std::to_string(a.grid_width) + " tokens";
  if (!a.objects.empty()) {
    cv::Mat boxed = in.bgr.clone();
    std::vector<cv::Mat> tiles{boxed};
    std::vector<std::string> captions{"predictions"};
    for (const AttendedObject& obj : a.objects) {
      draw_box(boxed, obj.image_box, cv::Scalar(255, 255, 0));
      cv::Mat t = overlay(in.bgr, obj.map, colormap);
      draw_box(t, obj.image_box, cv::Scalar(255, 255, 0));
      tiles.push_back(t);
      captions.push_back(object_caption(obj, class_names));
    }
    const cv::Mat body = tile_grid(tiles, captions, std::min<int>(4, static_cast<int>(tiles.size())), 240);
    write_png(dir / (stem + "_decoder.png"),
              add_title(body, "DETR decoder attention of each predicted object's query (Carion et al. 2020, Fig. 6)",
                        "decoder layer " + std::to_string(a.decoder_layer + 1) + " of " +
                            std::to_string(a.decoder_layers) + ", mean over heads, " + grid +
                            "; colours from 0 to each map's maximum"));
  }
  if (!a.points.empty()) {
    std::vector<cv::Mat> tiles;
    std::vector<std::string> captions;
    for (const AttendedPoint& p : a.points) {
      cv::Mat t = overlay(in.bgr, p.map, colormap);
      const int r = std::max(4, in.bgr.cols / 80);
      cv::circle(t, p.point, r, cv::Scalar(0, 0, 255), -1, cv::LINE_AA);
      cv::circle(t, p.point, r, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
      tiles.push_back(t);
      captions.push_back("point (" + std::to_string(static_cast<int>(std::lround(p.point.x))) + ", " +
                         std::to_string(static_cast<int>(std::lround(p.point.y))) + "), token " +
                         std::to_string(p.token));
    }
    const cv::Mat body = tile_grid(tiles, captions, std::min<int>(4, static_cast<int>(tiles.size())), 240);
    write_png(dir / (stem + "_encoder.png"),
              add_title(body, "DETR encoder self-attention at reference points (Carion et al. 2020, Fig. 3)",
                        "encoder layer " + std::to_string(a.encoder_layer + 1) + " of " +
                            std::to_string(a.encoder_layers) + ", mean over heads, " + grid +
                            "; the red dot is the attending token"));
  }
  nlohmann::json j;
  j["method"] = "detr_attention";
  j["grid"] = {a.grid_height, a.grid_width};
  j["decoder_layer"] = a.decoder_layer;
  j["decoder_layers"] = a.decoder_layers;
  j["encoder_layer"] = a.encoder_layer;
  j["encoder_layers"] = a.encoder_layers;
  for (const AttendedObject& obj : a.objects)
    j["objects"].push_back({{"query", obj.query},
                            {"label", obj.label},
                            {"class", obj.label >= 0 && obj.label < static_cast<int>(class_names.size())
                                          ? class_names[static_cast<size_t>(obj.label)]
                                          : ""},
                            {"score", obj.score},
                            {"box", {obj.image_box.x1, obj.image_box.y1, obj.image_box.x2, obj.image_box.y2}}});
  for (const AttendedPoint& p : a.points) j["points"].push_back({{"x", p.point.x}, {"y", p.point.y}, {"token", p.token}});
  write_file_atomic(dir / (stem + ".json"), j.dump(2) + "\n");
}

}  // namespace detlab
