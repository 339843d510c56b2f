// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// StageRegionSource: a training set seen through a pipeline's backbone, proposal and feature stages.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "pipeline/stages.h"
#include "pipeline/training.h"

namespace detlab {

/// RegionSource over a Dataset: each image is decoded, run through the backbone (if any), proposed and
/// described on demand, with one worker thread per image (pipeline/parallel.h) and a progress bar per pass.
/// thread safety: the stages must allow concurrent calls on different images (their documented contract).
class StageRegionSource final : public RegionSource {
 public:
  /// requires: train, proposals and features outlive this object; group_of_class(c) valid for c < K.
  StageRegionSource(const Dataset& train, BackboneStage* backbone, ProposalStage& proposals,
                    FeatureStage& features, std::function<int(int)> group_of_class, int threads);

  int num_images() const override { return static_cast<int>(train_.images.size()); }
  const std::vector<std::string>& class_names() const override { return train_.class_names; }
  int group_of_class(int c) const override { return group_of_class_(c); }
  void for_each(const std::vector<int>& images, const std::string& label,
                const std::function<void(TrainingImage&)>& fn) override;

 private:
  const Dataset& train_;
  BackboneStage* backbone_;
  ProposalStage& proposals_;
  FeatureStage& features_;
  std::function<int(int)> group_of_class_;
  int threads_;
};

}  // namespace detlab
