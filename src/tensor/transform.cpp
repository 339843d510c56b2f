// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Resize / normalize / pad of input images and the box mapping between original and network pixels.
#include "tensor/transform.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "config/checked.h"
#include "config/config.h"
#include "core/error.h"

namespace detlab {

namespace {

std::array<float, 3> read_triple(const Config& node, const std::string& key, const std::array<float, 3>& fallback) {
  if (!node.has(key)) return fallback;
  const std::vector<float> v = node.get<std::vector<float>>(key);
  if (v.size() != 3) config_error(node, key, "expected 3 values (R, G, B), got " + std::to_string(v.size()));
  return {v[0], v[1], v[2]};
}

}  // namespace

TransformOptions parse_transform(const Config& node) {
  TransformOptions o;
  o.min_size = node.get<int>("min_size", o.min_size);
  o.max_size = node.get<int>("max_size", o.max_size);
  if (node.has("fixed_size")) {
    const Config f = node.child("fixed_size");
    if (f.is_scalar()) {
      o.fixed_width = o.fixed_height = f.as<int>();
    } else {
      const std::vector<int> wh = f.as<std::vector<int>>();
      if (wh.size() != 2) config_error(node, "fixed_size", "expected a size or [width, height]");
      o.fixed_width = wh[0];
      o.fixed_height = wh[1];
    }
    if (o.fixed_width <= 0 || o.fixed_height <= 0) config_error(node, "fixed_size", "must be positive");
  }
  o.mean = read_triple(node, "mean", o.mean);
  o.std = read_triple(node, "std", o.std);
  o.to_rgb = node.get<bool>("to_rgb", o.to_rgb);
  o.size_divisibility = node.get<int>("size_divisibility", o.size_divisibility);
  if (o.min_size > 0 && o.max_size < o.min_size)
    config_error(node, "max_size", "must be >= min_size (" + std::to_string(o.min_size) + ")");
  for (float s : o.std)
    if (!(s > 0.f)) config_error(node, "std", "must be positive");
  return o;
}

ResizePlan plan_resize(int orig_width, int orig_height, const TransformOptions& opts, double jitter) {
  DETLAB_REQUIRE(orig_width > 0 && orig_height > 0, orig_width, orig_height);
  DETLAB_REQUIRE(jitter > 0, jitter);
  ResizePlan p;
  if (opts.fixed_width > 0 && opts.fixed_height > 0) {
    p.width = std::max(1, static_cast<int>(std::lround(opts.fixed_width * jitter)));
    p.height = std::max(1, static_cast<int>(std::lround(opts.fixed_height * jitter)));
  } else if (opts.min_size > 0) {
    // torchvision: scale from the shorter side unless that pushes the longer side past max_size;
    // the output size is floor(size * scale) (interpolate with recompute_scale_factor=True). torchvision computes
    // the scale in float32 as Tensor.__rtruediv__ does, min_size * (1 / shorter): for 300 x 400 at 480 / 640 that
    // is 1.5999999 and the image becomes 479 x 639, so we round the same way.
    const auto ratio = [](double target, int side) {
      return static_cast<float>(target) * (1.0f / static_cast<float>(side));
    };
    const double scale = std::min(ratio(opts.min_size * jitter, std::min(orig_width, orig_height)),
                                  ratio(opts.max_size * jitter, std::max(orig_width, orig_height)));
    p.width = std::max(1, static_cast<int>(std::floor(orig_width * scale)));
    p.height = std::max(1, static_cast<int>(std::floor(orig_height * scale)));
  } else {
    p.width = orig_width;
    p.height = orig_height;
  }
  p.scale_x = static_cast<float>(p.width) / static_cast<float>(orig_width);
  p.scale_y = static_cast<float>(p.height) / static_cast<float>(orig_height);
  return p;
}

int64_t padded_size(int64_t size, int divisibility) {
  if (divisibility <= 1) return size;
  return (size + divisibility - 1) / divisibility * divisibility;
}

void preprocess_into(const cv::Mat& bgr, const ResizePlan& plan, bool flip, const TransformOptions& opts,
                     float* dst, int64_t dst_height, int64_t dst_width) {
  DETLAB_REQUIRE(bgr.type() == CV_8UC3, "expected a CV_8UC3 image, got type", bgr.type());
  DETLAB_REQUIRE(plan.width <= dst_width && plan.height <= dst_height, plan.width, plan.height, dst_width, dst_height);
  // Normalize first, then resize, as torchvision's GeneralizedRCNNTransform does (normalize, then interpolate).
  // The same float operations as torchvision, (v / 255 - mean) / std, so that the values match bit for bit.
  int src_channel[3];
  for (int c = 0; c < 3; ++c) src_channel[c] = opts.to_rgb ? 2 - c : c;
  cv::Mat normalized(bgr.rows, bgr.cols, CV_32FC3);
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* s = bgr.ptr<uint8_t>(y);
    float* d = normalized.ptr<float>(y);
    for (int x = 0; x < bgr.cols; ++x, s += 3, d += 3)
      for (int c = 0; c < 3; ++c) d[c] = (static_cast<float>(s[src_channel[c]]) / 255.f - opts.mean[c]) / opts.std[c];
  }
  const int64_t plane = dst_height * dst_width;
  auto store_row = [&](int y, const float* c0, const float* c1, const float* c2) {
    float* r = dst + y * dst_width;
    for (int x = 0; x < plan.width; ++x) {
      const int xs = flip ? plan.width - 1 - x : x;
      r[x] = c0[xs];
      r[plane + x] = c1[xs];
      r[2 * plane + x] = c2[xs];
    }
  };
  if (plan.width == bgr.cols && plan.height == bgr.rows) {
    std::vector<float> c(3 * static_cast<size_t>(plan.width));
    for (int y = 0; y < plan.height; ++y) {
      const float* s = normalized.ptr<float>(y);
      for (int x = 0; x < plan.width; ++x)
        for (int k = 0; k < 3; ++k) c[k * plan.width + x] = s[3 * x + k];
      store_row(y, c.data(), c.data() + plan.width, c.data() + 2 * plan.width);
    }
    return;
  }
  // LibTorch's own bilinear kernel (align_corners false, scale = input / output size): the values of torchvision's
  // interpolate bit for bit, which cv::resize's coefficients are not (~1e-4 apart, enough to reorder near-tied
  // detections of a COCO model).
  const torch::Tensor hwc = torch::from_blob(normalized.data, {bgr.rows, bgr.cols, 3}, torch::kFloat32);
  const torch::Tensor resized =
      at::upsample_bilinear2d(hwc.permute({2, 0, 1}).unsqueeze(0).contiguous(), {plan.height, plan.width}, false)
          .squeeze(0)
          .contiguous();
  const float* r = resized.data_ptr<float>();
  const int64_t in_plane = static_cast<int64_t>(plan.height) * plan.width;
  for (int y = 0; y < plan.height; ++y) {
    const float* row = r + static_cast<int64_t>(y) * plan.width;
    store_row(y, row, row + in_plane, row + 2 * in_plane);
  }
}

torch::Tensor preprocess_image(const cv::Mat& bgr, const ResizePlan& plan, bool flip, const TransformOptions& opts) {
  torch::Tensor out = torch::empty({3, plan.height, plan.width}, torch::kFloat32);
  preprocess_into(bgr, plan, flip, opts, out.data_ptr<float>(), plan.height, plan.width);
  return out;
}

Batch make_eval_batch(const std::vector<cv::Mat>& bgr_images, const TransformOptions& opts) {
  DETLAB_REQUIRE(!bgr_images.empty(), "make_eval_batch needs at least one image");
  Batch b;
  int64_t max_h = 0, max_w = 0;
  std::vector<ResizePlan> plans;
  for (size_t i = 0; i < bgr_images.size(); ++i) {
    const cv::Mat& m = bgr_images[i];
    DETLAB_REQUIRE(m.type() == CV_8UC3 && !m.empty(), "image", i, "must be a non-empty CV_8UC3 image");
    plans.push_back(plan_resize(m.cols, m.rows, opts));
    max_h = std::max<int64_t>(max_h, plans.back().height);
    max_w = std::max<int64_t>(max_w, plans.back().width);
  }
  const int64_t H = padded_size(max_h, opts.size_divisibility), W = padded_size(max_w, opts.size_divisibility);
  b.images = torch::zeros({static_cast<int64_t>(bgr_images.size()), 3, H, W}, torch::kFloat32);
  float* base = b.images.data_ptr<float>();
  for (size_t i = 0; i < bgr_images.size(); ++i) {
    preprocess_into(bgr_images[i], plans[i], false, opts, base + i * 3 * H * W, H, W);
    ImageMeta m;
    m.index = static_cast<int>(i);
    m.orig_width = bgr_images[i].cols;
    m.orig_height = bgr_images[i].rows;
    m.scale_x = plans[i].scale_x;
    m.scale_y = plans[i].scale_y;
    m.width = plans[i].width;
    m.height = plans[i].height;
    b.meta.push_back(m);
  }
  return b;
}

torch::Tensor to_network(const torch::Tensor& boxes, const ImageMeta& meta) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "boxes must be K x 4, got ", boxes.sizes());
  torch::Tensor scale = torch::tensor({meta.scale_x, meta.scale_y, meta.scale_x, meta.scale_y},
                                      boxes.options().dtype(torch::kFloat32));
  torch::Tensor out = boxes.to(torch::kFloat32) * scale;
  if (meta.flipped) {
    const float w = static_cast<float>(meta.width);
    out = torch::stack({w - out.select(1, 2), out.select(1, 1), w - out.select(1, 0), out.select(1, 3)}, 1);
  }
  return out;
}

torch::Tensor to_original(const torch::Tensor& boxes, const ImageMeta& meta) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "boxes must be K x 4, got ", boxes.sizes());
  torch::Tensor b = boxes.to(torch::kFloat32);
  if (meta.flipped) {
    const float w = static_cast<float>(meta.width);
    b = torch::stack({w - b.select(1, 2), b.select(1, 1), w - b.select(1, 0), b.select(1, 3)}, 1);
  }
  torch::Tensor scale = torch::tensor({meta.scale_x, meta.scale_y, meta.scale_x, meta.scale_y},
                                      b.options().dtype(torch::kFloat32));
  torch::Tensor out = b / scale;
  out = torch::stack({out.select(1, 0).clamp(0, meta.orig_width), out.select(1, 1).clamp(0, meta.orig_height),
                      out.select(1, 2).clamp(0, meta.orig_width), out.select(1, 3).clamp(0, meta.orig_height)},
                     1);
  return out;
}

}  // namespace detlab
