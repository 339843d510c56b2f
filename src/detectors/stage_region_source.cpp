// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// StageRegionSource: per-image training views over the pipeline's stages, run on worker threads.
#include "detectors/stage_region_source.h"

#include <optional>

#include "core/error.h"
#include "core/progress.h"
#include "core/parallel.h"
#include "pipeline/runtime.h"
#include "pipeline/window_groups.h"

namespace detlab {

namespace {

class StageTrainingImage final : public TrainingImage {
 public:
  StageTrainingImage(int index, const Dataset& ds, BackboneStage* backbone, ProposalStage& proposals,
                     FeatureStage& features)
      : index_(index), record_(ds.images[index]), proposals_(proposals), features_(features) {
    image_.id = record_.name;
    image_.bgr = ds.load_image(index);
    ctx_.image = &image_;
    if (backbone) backbone->forward(ctx_);
  }

  int index() const override { return index_; }
  const ImageRecord& record() const override { return record_; }
  const ImageContext& context() const override { return ctx_; }
  const Proposals& proposals() override {
    if (!props_) props_ = proposals_.propose(ctx_);
    return *props_;
  }
  RegionFeatures features(const Proposals& regions) override { return features_.extract(ctx_, regions); }
  RegionFeatures features_as(const Proposals& regions, const std::vector<int>& groups) override {
    return extract_in_groups(features_, ctx_, regions, groups);
  }

 private:
  int index_;
  const ImageRecord& record_;
  ProposalStage& proposals_;
  FeatureStage& features_;
  Image image_;
  ImageContext ctx_;
  std::optional<Proposals> props_;
};

}  // namespace

StageRegionSource::StageRegionSource(const Dataset& train, BackboneStage* backbone, ProposalStage& proposals,
                                     FeatureStage& features, std::function<int(int)> group_of_class, int threads)
    : train_(train),
      backbone_(backbone),
      proposals_(proposals),
      features_(features),
      group_of_class_(std::move(group_of_class)),
      threads_(threads) {}

void StageRegionSource::for_each(const std::vector<int>& images, const std::string& label,
                                 const std::function<void(TrainingImage&)>& fn) {
  for (int i : images) DETLAB_REQUIRE(i >= 0 && i < num_images(), "image index out of range", i, num_images());
  ProgressBar bar(label, static_cast<int64_t>(images.size()), "img");
  // Images already run in parallel here: OpenCV's and OpenBLAS's own pools inside each worker would only
  // oversubscribe the cores (see ScopedLibraryThreads).
  std::optional<ScopedLibraryThreads> single;
  if (resolve_threads(threads_, static_cast<int>(images.size())) > 1) single.emplace(1);
  parallel_for(static_cast<int>(images.size()), threads_, [&](int j, int) {
    StageTrainingImage img(images[j], train_, backbone_, proposals_, features_);
    fn(img);
    bar.tick();
  });
  bar.finish();
}

}  // namespace detlab
