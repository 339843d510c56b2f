// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// BalancedPositiveNegativeSampler: torchvision det_utils' sampler, the same randperm draws in C++.
#include "nn/modeling/balanced_sampler.h"

#include <algorithm>

namespace detlab {

BalancedPositiveNegativeSampler::BalancedPositiveNegativeSampler(BalancedSamplerOptions opts) : opts_(opts) {
  TORCH_CHECK(opts_.batch_size_per_image >= 0,
              "BalancedPositiveNegativeSampler: batch_size_per_image must be >= 0, got ", opts_.batch_size_per_image);
  TORCH_CHECK(opts_.positive_fraction >= 0 && opts_.positive_fraction <= 1,
              "BalancedPositiveNegativeSampler: positive_fraction must lie in [0, 1], got ", opts_.positive_fraction);
}

std::pair<std::vector<at::Tensor>, std::vector<at::Tensor>> BalancedPositiveNegativeSampler::operator()(
    const std::vector<at::Tensor>& matched_idxs, std::optional<at::Generator> generator) const {
  const c10::optional<at::Generator> gen = generator ? c10::optional<at::Generator>(*generator) : c10::nullopt;
  std::vector<at::Tensor> pos_masks, neg_masks;
  for (const at::Tensor& matched : matched_idxs) {
    TORCH_CHECK(matched.dim() == 1 && !at::isFloatingType(matched.scalar_type()),
                "BalancedPositiveNegativeSampler: matched_idxs must be 1-D integer tensors, got ", matched.sizes(), " ",
                matched.scalar_type());
    const at::Tensor positive = at::where(matched >= 1)[0];
    const at::Tensor negative = at::where(matched == 0)[0];
    const int64_t wanted_pos =
        static_cast<int64_t>(static_cast<double>(opts_.batch_size_per_image) * opts_.positive_fraction);
    const int64_t num_pos = std::min(positive.numel(), wanted_pos);  // not enough positives: fill with negatives
    const int64_t num_neg = std::min(negative.numel(), opts_.batch_size_per_image - num_pos);
    const auto long_opt = at::TensorOptions().dtype(at::kLong).device(positive.device());
    const at::Tensor perm1 = at::randperm(positive.numel(), gen, long_opt).slice(0, 0, num_pos);
    const at::Tensor perm2 = at::randperm(negative.numel(), gen, long_opt).slice(0, 0, num_neg);
    at::Tensor pos_mask = at::zeros_like(matched, at::TensorOptions().dtype(at::kByte));
    at::Tensor neg_mask = at::zeros_like(matched, at::TensorOptions().dtype(at::kByte));
    pos_mask.index_put_({positive.index_select(0, perm1)}, 1);
    neg_mask.index_put_({negative.index_select(0, perm2)}, 1);
    pos_masks.push_back(pos_mask);
    neg_masks.push_back(neg_mask);
  }
  return {pos_masks, neg_masks};
}

}  // namespace detlab
