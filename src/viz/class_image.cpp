// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// class_image: regularized gradient ascent on the input.
#include "viz/class_image.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>
#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/padding.h>

#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"
#include "core/progress.h"

namespace detlab {

torch::Tensor gaussian_blur(const torch::Tensor& x, double sigma) {
  DETLAB_REQUIRE(x.dim() == 4 && sigma > 0, x.dim(), sigma);
  namespace F = torch::nn::functional;
  const int64_t radius = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(3 * sigma)));  // 3 sigma: 99.7 %
  std::vector<float> k;
  double sum = 0;
  for (int64_t i = -radius; i <= radius; ++i) {
    k.push_back(static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma))));
    sum += k.back();
  }
  for (float& v : k) v = static_cast<float>(v / sum);
  const int64_t c = x.size(1), n = static_cast<int64_t>(k.size());
  const torch::Tensor k1 = torch::tensor(k).to(x.device(), x.scalar_type());
  const torch::Tensor kx = k1.view({1, 1, 1, n}).expand({c, 1, 1, n}).contiguous();
  const torch::Tensor ky = k1.view({1, 1, n, 1}).expand({c, 1, n, 1}).contiguous();
  // Reflection needs pad < size; tiny inputs fall back to replication.
  const bool reflect = x.size(2) > radius && x.size(3) > radius;
  const auto mode = reflect ? torch::nn::functional::PadFuncOptions::mode_t(torch::kReflect)
                            : torch::nn::functional::PadFuncOptions::mode_t(torch::kReplicate);
  torch::Tensor y = F::pad(x, F::PadFuncOptions({radius, radius, 0, 0}).mode(mode));
  y = F::conv2d(y, kx, F::Conv2dFuncOptions().groups(c));
  y = F::pad(y, F::PadFuncOptions({0, 0, radius, radius}).mode(mode));
  return F::conv2d(y, ky, F::Conv2dFuncOptions().groups(c));
}

torch::Tensor noise_image(int64_t height, int64_t width, double sigma, uint64_t seed, const torch::Device& device) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return (at::randn({1, 3, height, width}, gen, torch::kFloat) * sigma).to(device);
}

cv::Mat to_bgr(const torch::Tensor& image, const TransformOptions& t) {
  torch::Tensor x = image.detach().to(torch::kCPU, torch::kFloat);
  if (x.dim() == 4) x = x[0];
  DETLAB_REQUIRE(x.dim() == 3 && x.size(0) == 3, x.sizes());
  const torch::Tensor mean = torch::tensor(std::vector<float>(t.mean.begin(), t.mean.end())).view({3, 1, 1});
  const torch::Tensor std = torch::tensor(std::vector<float>(t.std.begin(), t.std.end())).view({3, 1, 1});
  torch::Tensor u8 = ((x * std + mean) * 255.0).round().clamp(0, 255).to(torch::kUInt8);
  if (t.to_rgb) u8 = u8.flip({0});  // RGB planes -> BGR
  u8 = u8.permute({1, 2, 0}).contiguous();
  cv::Mat out(static_cast<int>(u8.size(0)), static_cast<int>(u8.size(1)), CV_8UC3);
  std::memcpy(out.data, u8.data_ptr<uint8_t>(), static_cast<size_t>(u8.numel()));
  return out;
}

ClassImageResult class_image(ScoreModel& model, const torch::Tensor& start, const ClassImageOptions& opts) {
  DETLAB_REQUIRE(start.dim() == 4 && start.size(0) == 1 && start.size(1) == 3, start.sizes());
  DETLAB_REQUIRE(opts.steps >= 0 && opts.lr > 0 && opts.l2_decay >= 0 && opts.l2_decay < 1 && opts.jitter >= 0,
                 opts.steps, opts.lr, opts.l2_decay, opts.jitter);
  const int64_t k = static_cast<int64_t>(model.score_names().size());
  DETLAB_REQUIRE(opts.target >= 0 && opts.target < k, opts.target, k);
  model.module().eval();
  const TransformOptions& t = model.transform();
  // The pixel range [0, 1] after normalization, per channel: ascent never leaves what an image can be.
  std::vector<float> lo(3), hi(3);
  for (size_t c = 0; c < 3; ++c) {
    lo[c] = -t.mean[c] / t.std[c];
    hi[c] = (1.f - t.mean[c]) / t.std[c];
  }
  const torch::Tensor vlo = torch::tensor(lo).view({1, 3, 1, 1}).to(start.device());
  const torch::Tensor vhi = torch::tensor(hi).view({1, 3, 1, 1}).to(start.device());
  torch::Tensor x = torch::max(torch::min(start.detach().to(torch::kFloat), vhi), vlo);

  auto score_now = [&](const torch::Tensor& img) {
    torch::NoGradGuard no_grad;
    return model.forward(img, nullptr)[0][opts.target].item<double>();
  };
  ClassImageResult r;
  r.scores.push_back(score_now(x));
  std::mt19937_64 rng(opts.seed);
  std::uniform_int_distribution<int> shift(-opts.jitter, opts.jitter);
  ProgressBar bar("class image", opts.steps, "step");
  for (int step = 0; step < opts.steps; ++step) {
    const int dx = opts.jitter > 0 ? shift(rng) : 0, dy = opts.jitter > 0 ? shift(rng) : 0;
    torch::Tensor g;
    {
      torch::AutoGradMode grad_on(true);
      torch::Tensor leaf = x.detach().requires_grad_(true);
      const torch::Tensor shifted = (dx || dy) ? torch::roll(leaf, {dy, dx}, {2, 3}) : leaf;
      const torch::Tensor s = model.forward(shifted, nullptr)[0][opts.target];
      g = torch::autograd::grad({s}, {leaf})[0];
    }
    const double scale = g.abs().mean().item<double>();
    if (scale > 0) x = x + (opts.lr / scale) * g;
    x = x * (1.0 - opts.l2_decay);
    if (opts.blur_sigma > 0 && opts.blur_every > 0 && (step + 1) % opts.blur_every == 0)
      x = gaussian_blur(x, opts.blur_sigma);
    x = torch::max(torch::min(x, vhi), vlo);
    r.scores.push_back(score_now(x));
    bar.set_postfix("score " + std::to_string(r.scores.back()));
    bar.tick();
  }
  bar.finish();
  r.image = x.to(torch::kCPU);
  return r;
}

}  // namespace detlab
