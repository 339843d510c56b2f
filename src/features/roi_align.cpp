// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// roi_align feature stage (see roi_align.h).
#include "features/roi_align.h"

#include "config/checked.h"
#include "core/error.h"
#include "pipeline/registries.h"
#include "features/roi_pool_stage.h"

namespace detlab {

namespace {

bool fpn_extra_level(const std::string& name) { return name == "pool" || name == "p6" || name == "p7"; }

}  // namespace

RoiAlignStageOptions parse_roi_align(const Config& node) {
  RoiAlignStageOptions o;
  MultiScaleRoiAlignOptions& p = o.pool;
  if (node.has("featmaps")) {
    p.featmap_names = node.get<std::vector<std::string>>("featmaps");
    if (p.featmap_names.empty()) config_error(node, "featmaps", "must name at least one map");
    o.featmaps_given = true;
  }
  p.output_size = node.get<int64_t>("output_size", p.output_size);
  p.sampling_ratio = node.get<int64_t>("sampling_ratio", p.sampling_ratio);
  p.aligned = node.get<bool>("aligned", p.aligned);
  p.canonical_scale = node.get<int64_t>("canonical_scale", p.canonical_scale);
  p.canonical_level = node.get<int64_t>("canonical_level", p.canonical_level);
  if (p.output_size <= 0) config_error(node, "output_size", "must be positive");
  if (p.canonical_scale <= 0) config_error(node, "canonical_scale", "must be positive");
  return o;
}

std::unique_ptr<FeatureStage> make_roi_align(const RoiAlignStageOptions& opts, BuildContext& ctx,
                                             const std::string& file, const std::string& path) {
  if (ctx.backbone.empty()) throw InputError(file, path, "roi_align needs a backbone stage (detector.backbone)");
  MultiScaleRoiAlignOptions p = opts.pool;
  if (!opts.featmaps_given) {
    std::map<std::string, ShapeSpec> specs;
    for (const auto& [n, s] : ctx.backbone) specs[n] = ShapeSpec{s.channels, s.stride};
    p.featmap_names.clear();
    for (const std::string& n : features_by_stride(specs))
      if (!fpn_extra_level(n)) p.featmap_names.push_back(n);
  }
  const int64_t channels = ctx.backbone.count(p.featmap_names[0]) ? ctx.backbone.at(p.featmap_names[0]).channels : 0;
  for (const std::string& n : p.featmap_names) {
    if (!ctx.backbone.count(n)) throw InputError(file, path + ".featmaps", "the backbone has no map '" + n + "'");
    if (ctx.backbone.at(n).channels != channels)
      throw InputError(file, path + ".featmaps", "the maps need equal channels (an FPN); '" + n + "' has " +
                                                     std::to_string(ctx.backbone.at(n).channels));
  }
  auto pooler = std::make_shared<MultiScaleRoiAlign>(p, channels);
  ctx.region_shape = pooler->output_shape();
  return std::make_unique<RoiPoolerStage>("roi_align", pooler);
}

void register_roi_align_stage(Registry<FeatureStage>& r) {
  r.add(
      "roi_align",
      [](const Config& c, BuildContext& b) {
        return with_config_errors(c, [&] { return make_roi_align(parse_roi_align(c), b, c.file(), c.path()); });
      },
      "RoIAlign on the backbone's maps, FPN level per box (He et al. 2017; torchvision MultiScaleRoIAlign)");
}

}  // namespace detlab
