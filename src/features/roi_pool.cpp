// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// roi_pool feature stage (see roi_pool.h).
#include "features/roi_pool.h"

#include "core/error.h"
#include "pipeline/registries.h"
#include "features/roi_pool_stage.h"

namespace detlab {

namespace {

/// Fast R-CNN pools VGG16's conv5_3 (stride 16): the default picks the coarsest map that is not coarser.
constexpr int64_t kDefaultMaxStride = 16;

}  // namespace

RoiPoolStageOptions parse_roi_pool(const Config& node) {
  RoiPoolStageOptions o;
  o.featmap = node.get<std::string>("featmap", o.featmap);
  o.output_size = node.get<int64_t>("output_size", o.output_size);
  if (o.output_size <= 0) throw InputError(node.file(), node.child_path("output_size"), "must be positive");
  return o;
}

std::unique_ptr<FeatureStage> make_roi_pool(const RoiPoolStageOptions& opts, BuildContext& ctx,
                                            const std::string& file, const std::string& path) {
  if (ctx.backbone.empty()) throw InputError(file, path, "roi_pool needs a backbone stage (detector.backbone)");
  std::string featmap = opts.featmap;
  if (featmap.empty()) {
    int64_t best = 0;
    for (const auto& [name, s] : ctx.backbone)
      if (s.stride <= kDefaultMaxStride && s.stride > best) best = s.stride, featmap = name;
    if (featmap.empty()) featmap = ctx.backbone.begin()->first;
  }
  const auto it = ctx.backbone.find(featmap);
  if (it == ctx.backbone.end()) throw InputError(file, path + ".featmap", "the backbone has no map '" + featmap + "'");
  RoiMaxPoolOptions p;
  p.featmap = featmap;
  p.output_size = opts.output_size;
  p.stride = it->second.stride;
  auto pooler = std::make_shared<RoiMaxPool>(p, it->second.channels);
  ctx.region_shape = pooler->output_shape();
  return std::make_unique<RoiPoolerStage>("roi_pool", pooler);
}

void register_roi_pool_stage(Registry<FeatureStage>& r) {
  r.add(
      "roi_pool",
      [](const Config& c, BuildContext& b) {
        return with_config_errors(c, [&] { return make_roi_pool(parse_roi_pool(c), b, c.file(), c.path()); });
      },
      "RoI max pooling on one backbone map (Fast R-CNN, Girshick 2015)");
}

}  // namespace detlab
