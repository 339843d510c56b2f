// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SSD augmentation (see ssd_augment.h): expansion and crop as one window resampled by affine_grid + grid_sample,
// the same map on the boxes; colour changes in [0, 1] RGB.
#include "nn/detection/ssd_augment.h"

#include <algorithm>
#include <cmath>

namespace detlab {

namespace {

at::Tensor channel_column(const std::array<float, 3>& v, const at::Tensor& like) {
  return at::tensor({v[0], v[1], v[2]}, like.options().dtype(at::kFloat)).to(like.dtype()).view({3, 1, 1});
}

at::Tensor grayscale(const at::Tensor& rgb) {  // ITU-R 601 luma, as torchvision's rgb_to_grayscale
  return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
}

// Hue rotated by `turns` of the colour circle in YIQ space: luma kept, the chroma plane turned (the linear
// counterpart of an HSV hue shift).
at::Tensor rotate_hue(const at::Tensor& rgb, double turns) {
  const double c = std::cos(2 * M_PI * turns), s = std::sin(2 * M_PI * turns);
  const at::Tensor y = grayscale(rgb);
  const at::Tensor i = 0.596 * rgb[0] - 0.274 * rgb[1] - 0.322 * rgb[2];
  const at::Tensor q = 0.211 * rgb[0] - 0.523 * rgb[1] + 0.312 * rgb[2];
  const at::Tensor i2 = c * i - s * q, q2 = s * i + c * q;
  return at::stack({y + 0.956 * i2 + 0.621 * q2, y - 0.272 * i2 - 0.647 * q2, y - 1.106 * i2 + 1.703 * q2});
}

double box_patch_iou(const float* b, const PixelWindow& p) {
  const double iw = std::min<double>(b[2], p.x1) - std::max<double>(b[0], p.x0);
  const double ih = std::min<double>(b[3], p.y1) - std::max<double>(b[1], p.y0);
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = iw * ih;
  return inter / ((b[2] - b[0]) * (b[3] - b[1]) + p.width() * p.height() - inter);
}

}  // namespace

double UniformDraws::next() {
  if (!block_.defined() || used_ == block_.size(0)) {
    block_ = at::rand({256}, at::kDouble);  // CPU default generator: seeded, checkpointed
    used_ = 0;
  }
  return block_.data_ptr<double>()[used_++];
}

at::Tensor resample_window(const at::Tensor& image, const PixelWindow& win) {
  TORCH_CHECK(image.dim() == 3 && win.width() > 0 && win.height() > 0,
              "resample_window: image 3 x h x w and a window of positive size expected, got ", image.sizes(), " [",
              win.x0, ", ", win.x1, "] x [", win.y0, ", ", win.y1, "]");
  const int64_t h = image.size(1), w = image.size(2);
  // Normalized coordinates (align_corners = false), x_n = 2 u / w - 1: the output at x_n samples the input at
  // a x_n + a - 1 + 2 x0 / w, a = (x1 - x0) / w, the image of u_in = x0 + a u_out.
  const double ax = win.width() / w, ay = win.height() / h;
  const at::Tensor theta = at::tensor({ax, 0.0, ax - 1 + 2 * win.x0 / w, 0.0, ay, ay - 1 + 2 * win.y0 / h},
                                      image.options().dtype(at::kFloat))
                               .view({1, 2, 3})
                               .to(image.dtype());
  const at::Tensor grid = at::affine_grid_generator(theta, {1, image.size(0), h, w}, /*align_corners=*/false);
  return at::grid_sampler(image.unsqueeze(0), grid, /*bilinear*/ 0, /*zeros*/ 0, /*align_corners=*/false).squeeze(0);
}

NetTarget window_target(const NetTarget& t, const PixelWindow& win, int64_t height, int64_t width,
                        bool keep_centre_inside) {
  const at::Tensor boxes = t.boxes.to(at::kFloat).reshape({-1, 4});
  const double sx = width / win.width(), sy = height / win.height();
  const at::Tensor scale = at::tensor({sx, sy, sx, sy}, boxes.options());
  const at::Tensor origin = at::tensor({win.x0, win.y0, win.x0, win.y0}, boxes.options());
  const at::Tensor moved = (boxes - origin) * scale;
  const at::Tensor hi = at::tensor({static_cast<double>(width), static_cast<double>(height),
                                    static_cast<double>(width), static_cast<double>(height)},
                                   boxes.options());
  const at::Tensor clipped = at::max(at::min(moved, hi), at::zeros({4}, boxes.options()));
  at::Tensor keep = (clipped.select(1, 2) > clipped.select(1, 0)) & (clipped.select(1, 3) > clipped.select(1, 1));
  if (keep_centre_inside) {
    const at::Tensor cx = (moved.select(1, 0) + moved.select(1, 2)) / 2;
    const at::Tensor cy = (moved.select(1, 1) + moved.select(1, 3)) / 2;
    keep = keep & (cx > 0) & (cx < width) & (cy > 0) & (cy < height);
  }
  const at::Tensor idx = at::nonzero(keep).squeeze(1);
  return {clipped.index_select(0, idx), t.labels.index_select(0, idx.to(t.labels.device()))};
}

PixelWindow sample_ssd_window(const at::Tensor& boxes_in, int64_t height, int64_t width, const SsdAugmentOptions& o,
                              UniformDraws& u, bool* keep_centre_inside) {
  *keep_centre_inside = false;
  PixelWindow canvas{0, 0, static_cast<double>(width), static_cast<double>(height)};
  if (o.expand > 1.0 && u.next() < 0.5) {
    const double r = 1.0 + (o.expand - 1.0) * u.next();
    canvas.x0 = -(r - 1.0) * width * u.next();
    canvas.y0 = -(r - 1.0) * height * u.next();
    canvas.x1 = canvas.x0 + r * width;
    canvas.y1 = canvas.y0 + r * height;
  }
  const at::Tensor boxes = boxes_in.to(at::kFloat).contiguous().reshape({-1, 4});
  if (!o.crop || boxes.size(0) == 0) return canvas;
  static constexpr double kMinIou[] = {-1.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.0};  // -1: the whole image
  const double min_iou = kMinIou[std::min<int64_t>(6, static_cast<int64_t>(u.next() * 7))];
  if (min_iou < 0) return canvas;
  const float* b = boxes.data_ptr<float>();
  for (int trial = 0; trial < 50; ++trial) {
    PixelWindow p;
    const double pw = canvas.width() * (o.min_scale + (1 - o.min_scale) * u.next());
    const double ph = canvas.height() * (o.min_scale + (1 - o.min_scale) * u.next());
    if (pw / ph < 0.5 || pw / ph > 2.0) continue;
    p.x0 = canvas.x0 + (canvas.width() - pw) * u.next();
    p.y0 = canvas.y0 + (canvas.height() - ph) * u.next();
    p.x1 = p.x0 + pw;
    p.y1 = p.y0 + ph;
    bool centre_inside = false;
    double best_iou = 0.0;
    for (int64_t k = 0; k < boxes.size(0); ++k) {
      const float* bk = b + 4 * k;
      const double cx = (bk[0] + bk[2]) / 2.0, cy = (bk[1] + bk[3]) / 2.0;
      centre_inside = centre_inside || (cx > p.x0 && cx < p.x1 && cy > p.y0 && cy < p.y1);
      best_iou = std::max(best_iou, box_patch_iou(bk, p));
    }
    if (!centre_inside || best_iou < min_iou) continue;
    *keep_centre_inside = true;
    return p;
  }
  return canvas;
}

at::Tensor photometric_distort(const at::Tensor& image, const SsdAugmentOptions& o, UniformDraws& u) {
  const at::Tensor mean = channel_column(o.mean, image), std = channel_column(o.std, image);
  at::Tensor x = image * std + mean;
  auto clamp01 = [](const at::Tensor& t) { return t.clamp(0.0, 1.0); };
  if (u.next() < 0.5) x = clamp01(x * (0.875 + 0.25 * u.next()));
  const bool contrast_first = u.next() < 0.5;
  auto contrast = [&] {
    if (u.next() < 0.5) {
      const double c = 0.5 + u.next();
      x = clamp01(c * x + (1 - c) * grayscale(x).mean());
    }
  };
  if (contrast_first) contrast();
  if (u.next() < 0.5) {
    const double s = 0.5 + u.next();
    x = clamp01(s * x + (1 - s) * grayscale(x).unsqueeze(0));
  }
  if (u.next() < 0.5) x = clamp01(rotate_hue(x, -0.05 + 0.1 * u.next()));
  if (!contrast_first) contrast();
  return (x - mean) / std;
}

std::pair<at::Tensor, std::vector<NetTarget>> random_ssd_augment(const at::Tensor& images,
                                                                 const std::vector<ImageSize>& sizes,
                                                                 const std::vector<NetTarget>& targets,
                                                                 const SsdAugmentOptions& o) {
  TORCH_CHECK(images.dim() == 4 && static_cast<int64_t>(sizes.size()) == images.size(0) &&
                  targets.size() == sizes.size(),
              "random_ssd_augment: ", images.sizes(), " images, ", sizes.size(), " sizes, ", targets.size(),
              " targets");
  at::Tensor out = images.clone();
  std::vector<NetTarget> moved;
  moved.reserve(targets.size());
  UniformDraws draws;
  for (size_t i = 0; i < sizes.size(); ++i) {
    using at::indexing::Slice;
    const auto n = static_cast<int64_t>(i);
    const int64_t h = sizes[i][0], w = sizes[i][1];
    at::Tensor region = out[n].index({Slice(), Slice(0, h), Slice(0, w)});
    at::Tensor image = images[n].index({Slice(), Slice(0, h), Slice(0, w)});
    if (o.photometric) image = photometric_distort(image, o, draws);
    bool crop = false;
    const PixelWindow win = sample_ssd_window(targets[i].boxes.cpu(), h, w, o, draws, &crop);
    const bool whole = win.x0 == 0 && win.y0 == 0 && win.x1 == w && win.y1 == h;
    region.copy_(whole ? image : resample_window(image, win));
    moved.push_back(whole ? targets[i] : window_target(targets[i], win, h, w, crop));
  }
  return {out, moved};
}

}  // namespace detlab
