// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// RoI max-pooling CPU kernel (forward with arg-max, backward) and its autograd Function.
//
// Bin boundaries use torchvision's roi_pool_kernel.cpp arithmetic (round half away from zero, floor/ceil in T),
// and the scan keeps the first maximum in row-major order (strict >), so values and arg-max agree with
// torchvision exactly. Unlike torchvision, the loops run in parallel (over RoIs forward, over channels backward)
// and never stride over channels in the innermost loop: channels-first they run RoI -> channel -> bin over
// contiguous rows of one plane; channels-last (chosen when the RoIs read more pixels than the map holds) they run
// RoI -> bin -> pixel with the innermost loop over contiguous channels, which vectorises.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "nn/ops/cpu/transpose.h"
#include "nn/ops/cpu/vectorize.h"
#include "nn/ops/roi_args.h"
#include "nn/ops/roi_pool.h"

namespace detlab {
namespace {

struct PoolBin {
  int64_t hstart, hend, wstart, wend;
};

/// Bin extents of one RoI in (ph, pw) order, clipped to the map; returns the batch index.
template <typename T>
int64_t roi_bins(const T* roi, T scale, const RoiPoolOptions& o, int64_t height, int64_t width,
                 std::vector<PoolBin>& bins) {
  const int64_t batch = static_cast<int64_t>(roi[0]);
  const int64_t start_w = static_cast<int64_t>(std::round(roi[1] * scale));
  const int64_t start_h = static_cast<int64_t>(std::round(roi[2] * scale));
  const int64_t end_w = static_cast<int64_t>(std::round(roi[3] * scale));
  const int64_t end_h = static_cast<int64_t>(std::round(roi[4] * scale));
  // Force malformed RoIs to be 1x1 (torchvision / Caffe Fast R-CNN).
  const int64_t roi_w = std::max<int64_t>(end_w - start_w + 1, 1);
  const int64_t roi_h = std::max<int64_t>(end_h - start_h + 1, 1);
  const T bin_h = static_cast<T>(roi_h) / static_cast<T>(o.output_height);
  const T bin_w = static_cast<T>(roi_w) / static_cast<T>(o.output_width);
  bins.resize(static_cast<size_t>(o.output_height * o.output_width));
  size_t i = 0;
  for (int64_t ph = 0; ph < o.output_height; ++ph) {
    for (int64_t pw = 0; pw < o.output_width; ++pw) {
      PoolBin& b = bins[i++];
      b.hstart = static_cast<int64_t>(std::floor(static_cast<T>(ph) * bin_h));
      b.wstart = static_cast<int64_t>(std::floor(static_cast<T>(pw) * bin_w));
      b.hend = static_cast<int64_t>(std::ceil(static_cast<T>(ph + 1) * bin_h));
      b.wend = static_cast<int64_t>(std::ceil(static_cast<T>(pw + 1) * bin_w));
      b.hstart = std::min(std::max<int64_t>(b.hstart + start_h, 0), height);
      b.hend = std::min(std::max<int64_t>(b.hend + start_h, 0), height);
      b.wstart = std::min(std::max<int64_t>(b.wstart + start_w, 0), width);
      b.wend = std::min(std::max<int64_t>(b.wend + start_w, 0), width);
    }
  }
  return batch;
}

/// Channels-last maximum of one bin for all channels: best / arg start at (0, -1) for an empty bin and at
/// (-FLT_MAX, -1) otherwise; pixels are visited in row-major order and only a strictly greater value wins, as in
/// the channels-first scan, so both layouts (and torchvision) pick the same pixel.
template <typename T>
DETLAB_ALWAYS_INLINE void pool_bin_nhwc(const T* img, int64_t width, int64_t channels, const PoolBin& b,
                                        T* __restrict best, int32_t* __restrict arg) {
  const bool empty = b.hend <= b.hstart || b.wend <= b.wstart;
  for (int64_t c = 0; c < channels; ++c) {
    best[c] = empty ? T(0) : T(-FLT_MAX);
    arg[c] = -1;
  }
  for (int64_t h = b.hstart; h < b.hend; ++h) {
    for (int64_t w = b.wstart; w < b.wend; ++w) {
      const T* __restrict v = img + (h * width + w) * channels;
      const int32_t idx = static_cast<int32_t>(h * width + w);
      for (int64_t c = 0; c < channels; ++c) {
        const bool greater = v[c] > best[c];
        best[c] = greater ? v[c] : best[c];
        arg[c] = greater ? idx : arg[c];
      }
    }
  }
}

DETLAB_TARGET_CLONES void pool_bin(const float* img, int64_t width, int64_t channels, const PoolBin& b, float* best,
                                   int32_t* arg) {
  pool_bin_nhwc(img, width, channels, b, best, arg);
}
DETLAB_TARGET_CLONES void pool_bin(const double* img, int64_t width, int64_t channels, const PoolBin& b, double* best,
                                   int32_t* arg) {
  pool_bin_nhwc(img, width, channels, b, best, arg);
}

template <typename T>
void forward_impl(const at::Tensor& input, const at::Tensor& rois, const RoiPoolOptions& o, bool channels_last,
                  at::Tensor& output, at::Tensor& argmax) {
  const int64_t channels = input.size(1), height = input.size(2), width = input.size(3);
  const int64_t bins_per_roi = o.output_height * o.output_width, plane = height * width;
  const T scale = static_cast<T>(o.spatial_scale);
  const T* rois_data = rois.data_ptr<T>();
  const T* in = input.data_ptr<T>();
  T* out = output.data_ptr<T>();
  int32_t* arg = argmax.data_ptr<int32_t>();

  at::parallel_for(0, rois.size(0), 1, [&](int64_t begin, int64_t end) {
    std::vector<PoolBin> bins;
    // Channels-last results of one RoI, [bin][C]; transposed into the K x C x bins outputs at the end.
    std::vector<T> best(channels_last ? static_cast<size_t>(bins_per_roi * channels) : 0);
    std::vector<int32_t> best_arg(best.size());
    for (int64_t k = begin; k < end; ++k) {
      const int64_t batch = roi_bins(rois_data + k * 5, scale, o, height, width, bins);
      if (channels_last) {
        const T* img = in + batch * plane * channels;  // H x W x C
        for (int64_t i = 0; i < bins_per_roi; ++i)
          pool_bin(img, width, channels, bins[static_cast<size_t>(i)], best.data() + i * channels,
                   best_arg.data() + i * channels);
        transpose_to(best.data(), bins_per_roi, channels, out + k * channels * bins_per_roi);
        transpose_to(best_arg.data(), bins_per_roi, channels, arg + k * channels * bins_per_roi);
        continue;
      }
      for (int64_t c = 0; c < channels; ++c) {
        const T* p = in + (batch * channels + c) * plane;
        const int64_t o_off = (k * channels + c) * bins_per_roi;
        for (int64_t i = 0; i < bins_per_roi; ++i) {
          const PoolBin& b = bins[static_cast<size_t>(i)];
          const bool empty = b.hend <= b.hstart || b.wend <= b.wstart;
          T best = empty ? T(0) : T(-FLT_MAX);  // an empty bin is 0; torchvision starts from -FLT_MAX
          int64_t best_idx = -1;                // -1: nothing pooled, nothing back-propagated
          for (int64_t h = b.hstart; h < b.hend; ++h) {
            const T* row = p + h * width;
            for (int64_t w = b.wstart; w < b.wend; ++w) {
              if (row[w] > best) {
                best = row[w];
                best_idx = h * width + w;
              }
            }
          }
          out[o_off + i] = best;
          arg[o_off + i] = static_cast<int32_t>(best_idx);
        }
      }
    }
  });
}

template <typename T>
void backward_impl(const at::Tensor& grad_output, const at::Tensor& rois, const at::Tensor& argmax,
                   at::Tensor& grad_input) {
  const int64_t channels = grad_input.size(1), plane = grad_input.size(2) * grad_input.size(3);
  const int64_t num_rois = rois.size(0), bins = grad_output.size(2) * grad_output.size(3);
  const T* rois_data = rois.data_ptr<T>();
  const T* go = grad_output.data_ptr<T>();
  const int32_t* arg = argmax.data_ptr<int32_t>();
  T* gi = grad_input.data_ptr<T>();
  // Threads own disjoint channel ranges, so the scatter-adds never race.
  at::parallel_for(0, channels, 1, [&](int64_t c_begin, int64_t c_end) {
    for (int64_t k = 0; k < num_rois; ++k) {
      const int64_t batch = static_cast<int64_t>(rois_data[k * 5]);
      for (int64_t c = c_begin; c < c_end; ++c) {
        T* p = gi + (batch * channels + c) * plane;
        const int64_t off = (k * channels + c) * bins;
        for (int64_t i = 0; i < bins; ++i) {
          const int32_t a = arg[off + i];
          if (a != -1) p[a] += go[off + i];
        }
      }
    }
  });
}

class RoiPoolFunction : public torch::autograd::Function<RoiPoolFunction> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input,
                                                const at::Tensor& rois, const RoiPoolOptions& o) {
    auto [output, argmax] = roi_pool_forward_cpu(input, rois, o);
    ctx->saved_data["input_shape"] = input.sizes();
    ctx->save_for_backward({rois, argmax});
    ctx->mark_non_differentiable({argmax});
    return {output, argmax};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& rois = saved[0];
    const at::Tensor& argmax = saved[1];
    const std::vector<int64_t> shape = ctx->saved_data.at("input_shape").toIntVector();
    at::Tensor grad_input = at::zeros(shape, grad_outputs[0].options());
    if (grad_outputs[0].numel() > 0) {
      const at::Tensor go = grad_outputs[0].contiguous();
      const at::Tensor r = rois.contiguous();
      AT_DISPATCH_FLOATING_TYPES(go.scalar_type(), "roi_pool_backward_cpu",
                                 [&] { backward_impl<scalar_t>(go, r, argmax, grad_input); });
    }
    return {grad_input, at::Tensor(), at::Tensor()};  // input, rois (no gradient), options
  }
};

}  // namespace

std::tuple<at::Tensor, at::Tensor> roi_pool_forward_cpu(const at::Tensor& input, const at::Tensor& rois,
                                                        const RoiPoolOptions& o, RoiLayout layout) {
  check_roi_op_args("roi_pool", input, rois, o.output_height, o.output_width);
  TORCH_CHECK(input.device().is_cpu(), "roi_pool_cpu: tensors must be on the CPU, got ", input.device());
  TORCH_CHECK(input.scalar_type() == at::kFloat || input.scalar_type() == at::kDouble,
              "roi_pool_cpu: dtype must be float or double, got ", input.scalar_type());
  TORCH_CHECK(input.size(2) * input.size(3) <= INT32_MAX, "roi_pool_cpu: feature map too large for int32 arg-max");
  check_roi_batch_indices("roi_pool", rois, input.size(0));
  const std::vector<int64_t> shape = {rois.size(0), input.size(1), o.output_height, o.output_width};
  at::Tensor output = at::empty(shape, input.options());  // every element is written
  at::Tensor argmax = at::empty(shape, input.options().dtype(at::kInt));
  if (output.numel() == 0) return {output, argmax};
  // Every bin reads at least one pixel per channel.
  const bool nhwc = use_channels_last(input, rois.size(0) * o.output_height * o.output_width, layout);
  const at::Tensor in = nhwc ? input.contiguous(at::MemoryFormat::ChannelsLast) : input.contiguous();
  const at::Tensor r = rois.contiguous();
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "roi_pool_forward_cpu",
                             [&] { forward_impl<scalar_t>(in, r, o, nhwc, output, argmax); });
  return {output, argmax};
}

at::Tensor roi_pool_cpu(const at::Tensor& input, const at::Tensor& rois, const RoiPoolOptions& opts) {
  return RoiPoolFunction::apply(input, rois, opts)[0];
}

}  // namespace detlab
