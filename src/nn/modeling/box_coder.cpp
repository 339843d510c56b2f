// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// BoxCoder: encode / decode of R-CNN box deltas, written operation for operation as torchvision's det_utils.
#include "nn/modeling/box_coder.h"

namespace detlab {
namespace {

void check_boxes(const char* what, const at::Tensor& boxes) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "BoxCoder: ", what, " must be K x 4, got ", boxes.sizes());
}

}  // namespace

BoxCoder::BoxCoder(std::array<double, 4> weights, double bbox_xform_clip)
    : weights_(weights), bbox_xform_clip_(bbox_xform_clip) {}

at::Tensor BoxCoder::encode_single(const at::Tensor& reference_boxes, const at::Tensor& proposals) const {
  check_boxes("reference_boxes", reference_boxes);
  check_boxes("proposals", proposals);
  TORCH_CHECK(reference_boxes.size(0) == proposals.size(0), "BoxCoder::encode: ", reference_boxes.size(0),
              " reference boxes but ", proposals.size(0), " proposals");
  // torchvision builds the weights as a tensor of the reference boxes' dtype.
  const at::Tensor w =
      at::tensor({weights_[0], weights_[1], weights_[2], weights_[3]}, reference_boxes.options().dtype(at::kDouble))
          .to(reference_boxes.scalar_type());
  auto col = [](const at::Tensor& b, int64_t i) { return b.select(1, i).unsqueeze(1); };
  const at::Tensor ex_widths = col(proposals, 2) - col(proposals, 0);
  const at::Tensor ex_heights = col(proposals, 3) - col(proposals, 1);
  const at::Tensor ex_ctr_x = col(proposals, 0) + 0.5 * ex_widths;
  const at::Tensor ex_ctr_y = col(proposals, 1) + 0.5 * ex_heights;
  const at::Tensor gt_widths = col(reference_boxes, 2) - col(reference_boxes, 0);
  const at::Tensor gt_heights = col(reference_boxes, 3) - col(reference_boxes, 1);
  const at::Tensor gt_ctr_x = col(reference_boxes, 0) + 0.5 * gt_widths;
  const at::Tensor gt_ctr_y = col(reference_boxes, 1) + 0.5 * gt_heights;
  const at::Tensor dx = w[0] * (gt_ctr_x - ex_ctr_x) / ex_widths;
  const at::Tensor dy = w[1] * (gt_ctr_y - ex_ctr_y) / ex_heights;
  const at::Tensor dw = w[2] * at::log(gt_widths / ex_widths);
  const at::Tensor dh = w[3] * at::log(gt_heights / ex_heights);
  return at::cat({dx, dy, dw, dh}, 1);
}

std::vector<at::Tensor> BoxCoder::encode(const std::vector<at::Tensor>& reference_boxes,
                                         const std::vector<at::Tensor>& proposals) const {
  TORCH_CHECK(reference_boxes.size() == proposals.size(), "BoxCoder::encode: ", reference_boxes.size(),
              " images of reference boxes but ", proposals.size(), " of proposals");
  if (reference_boxes.empty()) return {};
  std::vector<int64_t> sizes;
  for (const auto& b : reference_boxes) sizes.push_back(b.size(0));
  const at::Tensor targets = encode_single(at::cat(reference_boxes, 0), at::cat(proposals, 0));
  return targets.split_with_sizes(sizes, 0);
}

at::Tensor BoxCoder::decode_single(const at::Tensor& rel_codes, const at::Tensor& boxes_in) const {
  check_boxes("boxes", boxes_in);
  TORCH_CHECK(rel_codes.dim() == 2 && rel_codes.size(1) % 4 == 0 && rel_codes.size(0) == boxes_in.size(0),
              "BoxCoder::decode: rel_codes must be ", boxes_in.size(0), " x 4A, got ", rel_codes.sizes());
  const at::Tensor boxes = boxes_in.to(rel_codes.scalar_type());
  const at::Tensor widths = boxes.select(1, 2) - boxes.select(1, 0);
  const at::Tensor heights = boxes.select(1, 3) - boxes.select(1, 1);
  const at::Tensor ctr_x = boxes.select(1, 0) + 0.5 * widths;
  const at::Tensor ctr_y = boxes.select(1, 1) + 0.5 * heights;

  const int64_t n = rel_codes.size(1);
  const at::Tensor dx = rel_codes.slice(1, 0, n, 4) / weights_[0];
  const at::Tensor dy = rel_codes.slice(1, 1, n, 4) / weights_[1];
  // Prevent sending too large values into exp().
  const at::Tensor dw = (rel_codes.slice(1, 2, n, 4) / weights_[2]).clamp_max(bbox_xform_clip_);
  const at::Tensor dh = (rel_codes.slice(1, 3, n, 4) / weights_[3]).clamp_max(bbox_xform_clip_);

  const at::Tensor pred_ctr_x = dx * widths.unsqueeze(1) + ctr_x.unsqueeze(1);
  const at::Tensor pred_ctr_y = dy * heights.unsqueeze(1) + ctr_y.unsqueeze(1);
  const at::Tensor pred_w = at::exp(dw) * widths.unsqueeze(1);
  const at::Tensor pred_h = at::exp(dh) * heights.unsqueeze(1);
  // Centre-to-corner distances; torchvision multiplies by a 0.5 tensor of the same dtype.
  const at::Tensor half = at::full({}, 0.5, pred_w.options());
  const at::Tensor c_to_c_h = half * pred_h;
  const at::Tensor c_to_c_w = half * pred_w;
  return at::stack({pred_ctr_x - c_to_c_w, pred_ctr_y - c_to_c_h, pred_ctr_x + c_to_c_w, pred_ctr_y + c_to_c_h}, 2)
      .flatten(1);
}

at::Tensor BoxCoder::decode(const at::Tensor& rel_codes, const std::vector<at::Tensor>& boxes) const {
  TORCH_CHECK(!boxes.empty(), "BoxCoder::decode: needs at least one image of reference boxes");
  int64_t total = 0;
  for (const auto& b : boxes) total += b.size(0);
  const at::Tensor concat = at::cat(boxes, 0);
  at::Tensor codes = total > 0 ? rel_codes.reshape({total, -1}) : rel_codes;
  at::Tensor pred = decode_single(codes, concat);
  return total > 0 ? pred.reshape({total, -1, 4}) : pred;
}

}  // namespace detlab
