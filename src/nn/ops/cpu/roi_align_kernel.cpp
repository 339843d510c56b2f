// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoIAlign CPU kernel (forward channels-first / channels-last, backward) and its autograd Function.
//
// Numerics follow torchvision's roi_align_kernel.cpp operation by operation (same sample coordinates, the same
// clamping, the same accumulation order per output element), so outputs agree with torchvision to the last bit
// unless the compiler contracts multiply-adds. Speed comes from (a) bilinear taps precomputed once per RoI
// (torchvision's pre_calc), (b) at::parallel_for over RoIs (forward) and over channels (backward, so no two
// threads write the same gradient plane), and (c) channels-last variants of both passes whose inner loops run
// over contiguous channels and vectorise, used when the RoIs sample more points than the feature map holds.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nn/ops/cpu/transpose.h"
#include "nn/ops/cpu/vectorize.h"
#include "nn/ops/roi_align.h"
#include "nn/ops/roi_args.h"

namespace detlab {
namespace {

/// The four bilinear taps of one sample point: offsets into an H x W plane (in pixels) and weights.
template <typename T>
struct Taps {
  int64_t pos1, pos2, pos3, pos4;
  T w1, w2, w3, w4;
};

/// Per-RoI geometry, computed exactly as torchvision does (in T arithmetic).
template <typename T>
struct RoiGeometry {
  int64_t batch = 0;
  T start_h = 0, start_w = 0, bin_h = 0, bin_w = 0;
  int64_t grid_h = 0, grid_w = 0;
};

template <typename T>
RoiGeometry<T> roi_geometry(const T* roi, T scale, const RoiAlignOptions& o) {
  RoiGeometry<T> g;
  g.batch = static_cast<int64_t>(roi[0]);
  const T offset = o.aligned ? T(0.5) : T(0);
  g.start_w = roi[1] * scale - offset;
  g.start_h = roi[2] * scale - offset;
  const T end_w = roi[3] * scale - offset;
  const T end_h = roi[4] * scale - offset;
  T roi_w = end_w - g.start_w;
  T roi_h = end_h - g.start_h;
  if (!o.aligned) {  // legacy behaviour: force malformed RoIs to be at least 1x1
    roi_w = std::max(roi_w, T(1));
    roi_h = std::max(roi_h, T(1));
  }
  const T ph = static_cast<T>(o.output_height), pw = static_cast<T>(o.output_width);
  g.bin_h = roi_h / ph;
  g.bin_w = roi_w / pw;
  g.grid_h = o.sampling_ratio > 0 ? o.sampling_ratio : static_cast<int64_t>(std::ceil(roi_h / ph));
  g.grid_w = o.sampling_ratio > 0 ? o.sampling_ratio : static_cast<int64_t>(std::ceil(roi_w / pw));
  return g;
}

/// Fills `taps` with the bilinear taps of every sample of every bin, in (ph, pw, iy, ix) order.
template <typename T>
void precompute_taps(const RoiGeometry<T>& g, int64_t height, int64_t width, int64_t out_h, int64_t out_w,
                     std::vector<Taps<T>>& taps) {
  const int64_t gh = std::max<int64_t>(g.grid_h, 0), gw = std::max<int64_t>(g.grid_w, 0);
  taps.resize(static_cast<size_t>(out_h * out_w * gh * gw));
  size_t i = 0;
  for (int64_t ph = 0; ph < out_h; ++ph) {
    for (int64_t pw = 0; pw < out_w; ++pw) {
      for (int64_t iy = 0; iy < gh; ++iy) {
        const T yy = g.start_h + ph * g.bin_h + static_cast<T>(iy + .5f) * g.bin_h / static_cast<T>(g.grid_h);
        for (int64_t ix = 0; ix < gw; ++ix) {
          const T xx = g.start_w + pw * g.bin_w + static_cast<T>(ix + .5f) * g.bin_w / static_cast<T>(g.grid_w);
          T y = yy, x = xx;
          Taps<T>& t = taps[i++];
          // A sample more than one pixel outside the map contributes zero.
          if (y < -1.0 || y > height || x < -1.0 || x > width) {
            t = Taps<T>{0, 0, 0, 0, T(0), T(0), T(0), T(0)};
            continue;
          }
          if (y <= 0) y = 0;
          if (x <= 0) x = 0;
          int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x), y_high, x_high;
          if (y_low >= height - 1) {
            y_high = y_low = height - 1;
            y = static_cast<T>(y_low);
          } else {
            y_high = y_low + 1;
          }
          if (x_low >= width - 1) {
            x_high = x_low = width - 1;
            x = static_cast<T>(x_low);
          } else {
            x_high = x_low + 1;
          }
          const T ly = y - y_low, lx = x - x_low;
          const T hy = T(1) - ly, hx = T(1) - lx;
          t.pos1 = y_low * width + x_low;
          t.pos2 = y_low * width + x_high;
          t.pos3 = y_high * width + x_low;
          t.pos4 = y_high * width + x_high;
          t.w1 = hy * hx;
          t.w2 = hy * lx;
          t.w3 = ly * hx;
          t.w4 = ly * lx;
        }
      }
    }
  }
}

/// Channels-last pooling of all bins of one RoI: acc[bin * C + c] = (sum over the bin's samples of
/// w1 p1[c] + w2 p2[c] + w3 p3[c] + w4 p4[c]) / count, the inner loop over contiguous channels.
template <typename T>
DETLAB_ALWAYS_INLINE void pool_bins_nhwc(const Taps<T>* t, int64_t bins, int64_t samples, const T* img,
                                         int64_t channels, T count, T* __restrict acc_all) {
  for (int64_t bin = 0; bin < bins; ++bin) {
    T* __restrict acc = acc_all + bin * channels;
    for (int64_t c = 0; c < channels; ++c) acc[c] = T(0);
    for (int64_t s = 0; s < samples; ++s, ++t) {
      const T* __restrict p1 = img + t->pos1 * channels;
      const T* __restrict p2 = img + t->pos2 * channels;
      const T* __restrict p3 = img + t->pos3 * channels;
      const T* __restrict p4 = img + t->pos4 * channels;
      const T w1 = t->w1, w2 = t->w2, w3 = t->w3, w4 = t->w4;
      // torchvision's per-sample expression and order, so the sums round identically.
      for (int64_t c = 0; c < channels; ++c) acc[c] += w1 * p1[c] + w2 * p2[c] + w3 * p3[c] + w4 * p4[c];
    }
    for (int64_t c = 0; c < channels; ++c) acc[c] = acc[c] / count;
  }
}

DETLAB_TARGET_CLONES void pool_bins(const Taps<float>* t, int64_t bins, int64_t samples, const float* img,
                                    int64_t channels, float count, float* acc) {
  pool_bins_nhwc(t, bins, samples, img, channels, count, acc);
}
DETLAB_TARGET_CLONES void pool_bins(const Taps<double>* t, int64_t bins, int64_t samples, const double* img,
                                    int64_t channels, double count, double* acc) {
  pool_bins_nhwc(t, bins, samples, img, channels, count, acc);
}

/// Channels-last backward of all bins of one RoI over a channel range of width cw: for each sample of each bin,
/// gi[pos * C + c] += g[bin][c] * w / count for its four taps, taps in torchvision's order (they may coincide at
/// the map border, hence one loop per tap rather than one fused loop).
template <typename T>
DETLAB_ALWAYS_INLINE void scatter_bins_nhwc(const Taps<T>* t, int64_t bins, int64_t samples, const T* __restrict grad,
                                            int64_t cw, T count, T* gi, int64_t channels) {
  for (int64_t bin = 0; bin < bins; ++bin) {
    const T* __restrict g = grad + bin * cw;
    for (int64_t s = 0; s < samples; ++s, ++t) {
      // Samples outside the map have all-zero weights and receive no gradient (torchvision skips them).
      if (t->w1 == T(0) && t->w2 == T(0) && t->w3 == T(0) && t->w4 == T(0)) continue;
      const int64_t pos[4] = {t->pos1, t->pos2, t->pos3, t->pos4};
      const T w[4] = {t->w1, t->w2, t->w3, t->w4};
      for (int tap = 0; tap < 4; ++tap) {
        T* __restrict p = gi + pos[tap] * channels;
        const T wt = w[tap];
        for (int64_t c = 0; c < cw; ++c) p[c] += g[c] * wt / count;
      }
    }
  }
}

DETLAB_TARGET_CLONES void scatter_bins(const Taps<float>* t, int64_t bins, int64_t samples, const float* grad,
                                       int64_t cw, float count, float* gi, int64_t channels) {
  scatter_bins_nhwc(t, bins, samples, grad, cw, count, gi, channels);
}
DETLAB_TARGET_CLONES void scatter_bins(const Taps<double>* t, int64_t bins, int64_t samples, const double* grad,
                                       int64_t cw, double count, double* gi, int64_t channels) {
  scatter_bins_nhwc(t, bins, samples, grad, cw, count, gi, channels);
}

template <typename T>
void forward_impl(const at::Tensor& input, const at::Tensor& rois, const RoiAlignOptions& o, bool channels_last,
                  at::Tensor& output) {
  const int64_t channels = input.size(1), height = input.size(2), width = input.size(3);
  const int64_t out_h = o.output_height, out_w = o.output_width, bins = out_h * out_w;
  const T scale = static_cast<T>(o.spatial_scale);
  const T* rois_data = rois.data_ptr<T>();
  const T* in = input.data_ptr<T>();
  T* out = output.data_ptr<T>();
  const int64_t plane = height * width;

  at::parallel_for(0, rois.size(0), 1, [&](int64_t begin, int64_t end) {
    std::vector<Taps<T>> taps;
    std::vector<T> acc(channels_last ? static_cast<size_t>(bins * channels) : 0);  // one RoI, [bin][C]
    for (int64_t k = begin; k < end; ++k) {
      const RoiGeometry<T> g = roi_geometry(rois_data + k * 5, scale, o);
      precompute_taps(g, height, width, out_h, out_w, taps);
      const int64_t samples = std::max<int64_t>(g.grid_h, 0) * std::max<int64_t>(g.grid_w, 0);
      // Average pooling inside a bin; an empty grid gives zeros (count clamped to 1 as torchvision does).
      const T count = static_cast<T>(std::max<int64_t>(g.grid_h * g.grid_w, 1));
      T* out_k = out + k * channels * bins;
      if (!channels_last) {
        for (int64_t c = 0; c < channels; ++c) {
          const T* p = in + (g.batch * channels + c) * plane;
          T* out_kc = out_k + c * bins;
          const Taps<T>* t = taps.data();
          for (int64_t bin = 0; bin < bins; ++bin) {
            T val = 0;
            for (int64_t s = 0; s < samples; ++s, ++t)
              val += t->w1 * p[t->pos1] + t->w2 * p[t->pos2] + t->w3 * p[t->pos3] + t->w4 * p[t->pos4];
            out_kc[bin] = val / count;
          }
        }
      } else {
        const T* img = in + g.batch * plane * channels;  // H x W x C
        pool_bins(taps.data(), bins, samples, img, channels, count, acc.data());
        transpose_to(acc.data(), bins, channels, out_k);
      }
    }
  });
}

template <typename T>
void backward_impl(const at::Tensor& grad_output, const at::Tensor& rois, const RoiAlignOptions& o, bool channels_last,
                   at::Tensor& grad_input) {
  // grad_input is N x C x H x W, or N x H x W x C when channels_last.
  const int64_t channels = grad_input.size(channels_last ? 3 : 1);
  const int64_t height = grad_input.size(channels_last ? 1 : 2), width = grad_input.size(channels_last ? 2 : 3);
  const int64_t out_h = o.output_height, out_w = o.output_width, bins = out_h * out_w;
  const int64_t num_rois = rois.size(0), plane = height * width;
  const T scale = static_cast<T>(o.spatial_scale);
  const T* rois_data = rois.data_ptr<T>();
  const T* go = grad_output.data_ptr<T>();
  T* gi = grad_input.data_ptr<T>();

  // Threads own disjoint channel ranges, so the scatter-adds never race; each recomputes the (cheap) taps.
  at::parallel_for(0, channels, 1, [&](int64_t c_begin, int64_t c_end) {
    std::vector<Taps<T>> taps;
    std::vector<T> grad_bins(channels_last ? static_cast<size_t>(bins * (c_end - c_begin)) : 0);
    for (int64_t k = 0; k < num_rois; ++k) {
      const RoiGeometry<T> g = roi_geometry(rois_data + k * 5, scale, o);
      precompute_taps(g, height, width, out_h, out_w, taps);
      const int64_t samples = std::max<int64_t>(g.grid_h, 0) * std::max<int64_t>(g.grid_w, 0);
      const T count = static_cast<T>(g.grid_h * g.grid_w);
      if (channels_last) {
        // This RoI's output gradient for the thread's channels, as [bin][channel].
        transpose_to(go + (k * channels + c_begin) * bins, c_end - c_begin, bins, grad_bins.data());
        scatter_bins(taps.data(), bins, samples, grad_bins.data(), c_end - c_begin, count,
                     gi + g.batch * plane * channels + c_begin, channels);
        continue;
      }
      for (int64_t c = c_begin; c < c_end; ++c) {
        T* p = gi + (g.batch * channels + c) * plane;
        const T* go_kc = go + (k * channels + c) * bins;
        const Taps<T>* t = taps.data();
        for (int64_t bin = 0; bin < bins; ++bin) {
          const T grad = go_kc[bin];
          for (int64_t s = 0; s < samples; ++s, ++t) {
            // Samples outside the map have all-zero weights and receive no gradient (torchvision skips them).
            if (t->w1 == T(0) && t->w2 == T(0) && t->w3 == T(0) && t->w4 == T(0)) continue;
            p[t->pos1] += grad * t->w1 / count;
            p[t->pos2] += grad * t->w2 / count;
            p[t->pos3] += grad * t->w3 / count;
            p[t->pos4] += grad * t->w4 / count;
          }
        }
      }
    }
  });
}

/// The layout both passes use: channels-last when the RoIs read (forward) or write (backward) more points per
/// channel than the map holds; adaptive sampling is estimated as a 2 x 2 grid.
bool channels_last_for(const at::Tensor& input, const at::Tensor& rois, const RoiAlignOptions& o, RoiLayout layout) {
  const int64_t grid = o.sampling_ratio > 0 ? o.sampling_ratio * o.sampling_ratio : 4;
  return use_channels_last(input, rois.size(0) * o.output_height * o.output_width * grid, layout);
}

at::Tensor forward_kernel(const at::Tensor& input, const at::Tensor& rois, const RoiAlignOptions& o, bool nhwc) {
  // Every element is written.
  at::Tensor output = at::empty({rois.size(0), input.size(1), o.output_height, o.output_width}, input.options());
  if (output.numel() == 0) return output;
  const at::Tensor in = nhwc ? input.contiguous(at::MemoryFormat::ChannelsLast) : input.contiguous();
  const at::Tensor r = rois.contiguous();
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "roi_align_forward_cpu",
                             [&] { forward_impl<scalar_t>(in, r, o, nhwc, output); });
  return output;
}

at::Tensor backward_kernel(const at::Tensor& grad_output, const at::Tensor& rois, at::IntArrayRef input_shape,
                           const RoiAlignOptions& o, bool channels_last) {
  if (grad_output.numel() == 0) return at::zeros(input_shape, grad_output.options());
  const int64_t n = input_shape[0], c = input_shape[1], h = input_shape[2], w = input_shape[3];
  at::Tensor grad_input =
      channels_last ? at::zeros({n, h, w, c}, grad_output.options()) : at::zeros(input_shape, grad_output.options());
  const at::Tensor go = grad_output.contiguous();
  const at::Tensor r = rois.contiguous();
  AT_DISPATCH_FLOATING_TYPES(grad_output.scalar_type(), "roi_align_backward_cpu",
                             [&] { backward_impl<scalar_t>(go, r, o, channels_last, grad_input); });
  return channels_last ? grad_input.permute({0, 3, 1, 2}).contiguous() : grad_input;
}

RoiAlignOptions options_from(const torch::autograd::AutogradContext* ctx) {
  RoiAlignOptions o;
  o.output_height = ctx->saved_data.at("output_height").toInt();
  o.output_width = ctx->saved_data.at("output_width").toInt();
  o.spatial_scale = ctx->saved_data.at("spatial_scale").toDouble();
  o.sampling_ratio = ctx->saved_data.at("sampling_ratio").toInt();
  o.aligned = ctx->saved_data.at("aligned").toBool();
  return o;
}

class RoiAlignFunction : public torch::autograd::Function<RoiAlignFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input,
                                                const at::Tensor& rois, const RoiAlignOptions& o, RoiLayout layout) {
    ctx->saved_data["output_height"] = o.output_height;
    ctx->saved_data["output_width"] = o.output_width;
    ctx->saved_data["spatial_scale"] = o.spatial_scale;
    ctx->saved_data["sampling_ratio"] = o.sampling_ratio;
    ctx->saved_data["aligned"] = o.aligned;
    ctx->saved_data["input_shape"] = input.sizes();
    const bool nhwc = channels_last_for(input, rois, o, layout);
    ctx->saved_data["channels_last"] = nhwc;
    ctx->save_for_backward({rois});
    return {forward_kernel(input, rois, o, nhwc)};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const at::Tensor rois = ctx->get_saved_variables()[0];
    const std::vector<int64_t> shape = ctx->saved_data.at("input_shape").toIntVector();
    at::Tensor grad_input =
        backward_kernel(grad_outputs[0], rois, shape, options_from(ctx), ctx->saved_data.at("channels_last").toBool());
    // One entry per forward argument: input, rois (no gradient, as in torchvision), options, layout.
    return {grad_input, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor roi_align_cpu(const at::Tensor& input, const at::Tensor& rois, const RoiAlignOptions& opts,
                         RoiLayout layout) {
  check_roi_op_args("roi_align", input, rois, opts.output_height, opts.output_width);
  TORCH_CHECK(input.device().is_cpu(), "roi_align_cpu: tensors must be on the CPU, got ", input.device());
  TORCH_CHECK(input.scalar_type() == at::kFloat || input.scalar_type() == at::kDouble,
              "roi_align_cpu: dtype must be float or double, got ", input.scalar_type());
  check_roi_batch_indices("roi_align", rois, input.size(0));
  return RoiAlignFunction::apply(input, rois, opts, layout)[0];
}

}  // namespace detlab
