// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// SSD post-processing (see ssd_postprocess.h).
#include "nn/detection/ssd_postprocess.h"

#include <algorithm>
#include <utility>

#include "nn/ops/boxes.h"
#include "nn/ops/nms.h"

namespace detlab {
namespace {

void check_args(const torch::Tensor& cls_logits, const torch::Tensor& bbox_regression, const torch::Tensor& anchors,
                const std::vector<ImageSize>& image_sizes) {
  TORCH_CHECK(cls_logits.dim() == 3 && bbox_regression.dim() == 3 && anchors.dim() == 2 &&
                  cls_logits.size(0) == bbox_regression.size(0) && cls_logits.size(1) == bbox_regression.size(1) &&
                  anchors.size(0) == cls_logits.size(1) &&
                  static_cast<int64_t>(image_sizes.size()) == cls_logits.size(0),
              "ssd_postprocess: logits ", cls_logits.sizes(), ", deltas ", bbox_regression.sizes(), ", anchors ",
              anchors.sizes(), ", ", image_sizes.size(), " image sizes");
}

NetDetections finish(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& labels,
                     const SsdPostprocessOptions& opts) {
  torch::Tensor keep = batched_nms(boxes, scores, labels, opts.nms_thresh);
  keep = keep.slice(0, 0, std::min<int64_t>(keep.size(0), opts.detections_per_img));
  return {boxes.index_select(0, keep), scores.index_select(0, keep), labels.index_select(0, keep)};
}

// Candidates of one image from its A x C probabilities (CPU float): per class, the anchors scoring above the
// threshold, the best topk of them, by descending score (ties: lower anchor first), classes in order.
void select_candidates_cpu(const torch::Tensor& probs, const SsdPostprocessOptions& opts, std::vector<int64_t>* anchor,
                           std::vector<float>* score, std::vector<int64_t>* label) {
  const int64_t a = probs.size(0), c = probs.size(1);
  const float* p = probs.data_ptr<float>();
  const float thresh = static_cast<float>(opts.score_thresh);  // torch compares a float tensor to a float scalar
  std::vector<std::vector<std::pair<float, int64_t>>> per_class(static_cast<size_t>(c));
  for (int64_t i = 0; i < a; ++i) {
    const float* row = p + i * c;
    for (int64_t k = 1; k < c; ++k) {
      if (row[k] > thresh) per_class[k].emplace_back(row[k], i);
    }
  }
  const auto better = [](const std::pair<float, int64_t>& x, const std::pair<float, int64_t>& y) {
    return x.first > y.first || (x.first == y.first && x.second < y.second);
  };
  for (int64_t k = 1; k < c; ++k) {
    auto& v = per_class[k];
    const size_t top = std::min<size_t>(v.size(), static_cast<size_t>(std::max<int64_t>(0, opts.topk_candidates)));
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(top), v.end(), better);
    for (size_t j = 0; j < top; ++j) {
      anchor->push_back(v[j].second);
      score->push_back(v[j].first);
      label->push_back(k);
    }
  }
}

}  // namespace

std::vector<NetDetections> ssd_postprocess(const torch::Tensor& cls_logits, const torch::Tensor& bbox_regression,
                                           const torch::Tensor& anchors, const std::vector<ImageSize>& image_sizes,
                                           const BoxCoder& coder, const SsdPostprocessOptions& opts) {
  check_args(cls_logits, bbox_regression, anchors, image_sizes);
  if (!cls_logits.device().is_cpu() || cls_logits.scalar_type() != torch::kFloat)
    return ssd_postprocess_reference(cls_logits, bbox_regression, anchors, image_sizes, coder, opts);
  const torch::Tensor probs = torch::softmax(cls_logits, -1).contiguous();
  std::vector<NetDetections> out;
  for (size_t i = 0; i < image_sizes.size(); ++i) {
    std::vector<int64_t> anchor, label;
    std::vector<float> score;
    select_candidates_cpu(probs[static_cast<int64_t>(i)], opts, &anchor, &score, &label);
    const auto n = static_cast<int64_t>(anchor.size());
    const torch::Tensor idx = torch::from_blob(anchor.data(), {n}, torch::kLong).clone();
    // Decode only the candidates: decoding is row-wise, so this equals decoding all boxes and indexing.
    torch::Tensor boxes = coder.decode_single(bbox_regression[static_cast<int64_t>(i)].index_select(0, idx),
                                              anchors.index_select(0, idx));
    boxes = clip_boxes_to_image(boxes, image_sizes[i][0], image_sizes[i][1]);
    out.push_back(finish(boxes, torch::from_blob(score.data(), {n}, torch::kFloat).clone(),
                         torch::from_blob(label.data(), {n}, torch::kLong).clone(), opts));
  }
  return out;
}

std::vector<NetDetections> ssd_postprocess_reference(const torch::Tensor& cls_logits,
                                                     const torch::Tensor& bbox_regression,
                                                     const torch::Tensor& anchors,
                                                     const std::vector<ImageSize>& image_sizes, const BoxCoder& coder,
                                                     const SsdPostprocessOptions& opts) {
  check_args(cls_logits, bbox_regression, anchors, image_sizes);
  const torch::Tensor probs = torch::softmax(cls_logits, -1);
  const int64_t c = probs.size(2);
  std::vector<NetDetections> out;
  for (size_t i = 0; i < image_sizes.size(); ++i) {
    torch::Tensor boxes = coder.decode_single(bbox_regression[static_cast<int64_t>(i)], anchors);
    boxes = clip_boxes_to_image(boxes, image_sizes[i][0], image_sizes[i][1]);
    const torch::Tensor scores = probs[static_cast<int64_t>(i)];
    std::vector<torch::Tensor> all_boxes, all_scores, all_labels;
    for (int64_t k = 1; k < c; ++k) {
      torch::Tensor s = scores.select(1, k);
      const torch::Tensor keep = s > opts.score_thresh;
      s = s.masked_select(keep);
      torch::Tensor b = boxes.index({keep});
      const auto top = s.topk(std::min<int64_t>(opts.topk_candidates, s.size(0)));
      all_boxes.push_back(b.index_select(0, std::get<1>(top)));
      all_scores.push_back(std::get<0>(top));
      all_labels.push_back(torch::full({std::get<0>(top).size(0)}, k, scores.options().dtype(torch::kLong)));
    }
    out.push_back(finish(torch::cat(all_boxes), torch::cat(all_scores), torch::cat(all_labels), opts));
  }
  return out;
}

}  // namespace detlab
