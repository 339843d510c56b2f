// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// occlusion: batched forward passes over occluded copies of the input.
#include "viz/occlusion.h"

#include <torch/nn/functional/pooling.h>

#include <algorithm>

#include "core/error.h"
#include "core/progress.h"

namespace detlab {

namespace {

std::vector<int64_t> positions(int64_t extent, int64_t size, int64_t stride) {
  std::vector<int64_t> p;
  for (int64_t v = 0; v + size <= extent; v += stride) p.push_back(v);
  if (p.empty() || p.back() + size < extent) p.push_back(extent - size);  // cover the far border too
  return p;
}

torch::Tensor score_of(ScoreModel& model, const torch::Tensor& batch, int64_t target, bool softmax) {
  torch::Tensor s = model.forward(batch, nullptr);
  if (softmax) s = torch::softmax(s, 1);
  return s.select(1, target).to(torch::kCPU, torch::kDouble);
}

}  // namespace

OcclusionOptions::Fill parse_fill(const std::string& name, const std::string& what) {
  if (name == "mean") return OcclusionOptions::Fill::kMean;
  if (name == "black") return OcclusionOptions::Fill::kBlack;
  if (name == "blur") return OcclusionOptions::Fill::kBlur;
  throw InputError("", what, "unknown fill '" + name + "' (mean, black, blur)");
}

OcclusionResult occlusion(ScoreModel& model, const torch::Tensor& input, int64_t valid_h, int64_t valid_w,
                          const OcclusionOptions& opts) {
  DETLAB_REQUIRE(input.dim() == 4 && input.size(0) >= 1, input.sizes());
  const int64_t H = input.size(2), W = input.size(3);
  DETLAB_REQUIRE(valid_h >= 1 && valid_h <= H && valid_w >= 1 && valid_w <= W, valid_h, valid_w, H, W);
  DETLAB_REQUIRE(opts.size >= 1 && opts.stride >= 1 && opts.batch >= 1, opts.size, opts.stride, opts.batch);
  torch::NoGradGuard no_grad;
  model.module().eval();
  const torch::Tensor x = input.narrow(0, 0, 1).detach();
  const int64_t ph = std::min<int64_t>(opts.size, valid_h), pw = std::min<int64_t>(opts.size, valid_w);

  torch::Tensor fill;  // 1 x 3 x H x W values pasted into the patch
  const TransformOptions& t = model.transform();
  switch (opts.fill) {
    case OcclusionOptions::Fill::kMean: fill = torch::zeros_like(x); break;
    case OcclusionOptions::Fill::kBlack: {
      std::vector<float> v(3);
      for (int c = 0; c < 3; ++c) v[static_cast<size_t>(c)] = -t.mean[static_cast<size_t>(c)] / t.std[static_cast<size_t>(c)];
      fill = torch::tensor(v).to(x.device(), x.scalar_type()).view({1, 3, 1, 1}).expand_as(x).contiguous();
      break;
    }
    case OcclusionOptions::Fill::kBlur: {
      namespace F = torch::nn::functional;
      const int64_t k = std::max<int64_t>(3, (opts.size / 2) | 1);  // odd kernel half the patch: detail gone
      fill = F::avg_pool2d(x, F::AvgPool2dFuncOptions(k).stride(1).padding(k / 2).count_include_pad(false));
      break;
    }
  }

  OcclusionResult r;
  r.ys = positions(valid_h, ph, opts.stride);
  r.xs = positions(valid_w, pw, opts.stride);
  const TargetScore base = resolve_target(model, x, opts.target);
  const double base_score = opts.softmax ? score_of(model, x, base.target, true)[0].item<double>() : base.score;
  const int64_t total = static_cast<int64_t>(r.ys.size() * r.xs.size());
  std::vector<double> drops(static_cast<size_t>(total));
  ProgressBar bar("occlusion", total, "pos");
  for (int64_t start = 0; start < total; start += opts.batch) {
    const int64_t n = std::min<int64_t>(opts.batch, total - start);
    torch::Tensor b = x.expand({n, -1, -1, -1}).clone();
    for (int64_t k = 0; k < n; ++k) {
      const int64_t p = start + k;
      const int64_t y0 = r.ys[static_cast<size_t>(p) / r.xs.size()], x0 = r.xs[static_cast<size_t>(p) % r.xs.size()];
      b[k].narrow(1, y0, ph).narrow(2, x0, pw).copy_(fill[0].narrow(1, y0, ph).narrow(2, x0, pw));
    }
    const torch::Tensor s = score_of(model, b, base.target, opts.softmax).contiguous();
    for (int64_t k = 0; k < n; ++k) drops[static_cast<size_t>(start + k)] = base_score - s[k].item<double>();
    bar.tick(n);
  }
  bar.finish();

  r.drops = torch::tensor(drops, torch::kDouble).view({static_cast<int64_t>(r.ys.size()), static_cast<int64_t>(r.xs.size())});
  torch::Tensor sum = torch::zeros({H, W}, torch::kDouble), count = torch::zeros({H, W}, torch::kDouble);
  for (size_t i = 0; i < r.ys.size(); ++i)
    for (size_t j = 0; j < r.xs.size(); ++j) {
      sum.narrow(0, r.ys[i], ph).narrow(1, r.xs[j], pw) += drops[i * r.xs.size() + j];
      count.narrow(0, r.ys[i], ph).narrow(1, r.xs[j], pw) += 1.0;
    }
  r.map.method = "occlusion";
  r.map.grid = Heatmap::Grid::kInput;
  r.map.target = base.target;
  r.map.target_name = model.score_names().at(static_cast<size_t>(base.target));
  r.map.score = base_score;
  r.map.values = (sum / count.clamp_min(1.0)).to(torch::kFloat).contiguous();
  return r;
}

}  // namespace detlab
