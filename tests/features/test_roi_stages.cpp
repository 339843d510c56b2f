// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// roi_align / roi_pool feature stages: pooled features equal the ops on network-pixel boxes, defaults, errors.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "data/synthetic.h"
#include "nn/ops/roi_align.h"
#include "nn/ops/roi_pool.h"
#include "pipeline/feature_maps.h"
#include "pipeline/registries.h"
#include "pipeline/torch_stage.h"
#include "nn/catch_torch.h"

using namespace detlab;

namespace {

struct Setup {
  BuildContext b;
  std::unique_ptr<BackboneStage> backbone;
  Image img;
  ImageContext ctx;
};

std::unique_ptr<Setup> setup(const std::string& backbone_yaml) {
  auto s = std::make_unique<Setup>();
  s->b.registries = &builtin_registries();
  s->b.class_names = {"a", "b"};
  s->backbone = builtin_registries().backbones.build(Config::parse(backbone_yaml), s->b);
  s->b.backbone = s->backbone->output_shape();
  SyntheticOptions o;
  o.num_images = 1;
  o.width = 160;
  o.height = 128;
  const Dataset ds = make_synthetic(o);
  s->img = Image{ds.images[0].name, ds.load_image(0)};
  s->ctx.image = &s->img;
  s->backbone->forward(s->ctx);
  return s;
}

const Proposals kBoxes = {{{10.f, 12.f, 70.f, 90.f}, 1.f}, {{0.f, 0.f, 160.f, 128.f}, 0.5f}, {{100.f, 4.f, 104.f, 9.f}, 0.2f}};

}  // namespace

TEST_CASE("roi_align stage: MultiScaleRoIAlign on boxes scaled to network pixels", "[features][roi_align]") {
  torch::manual_seed(0);
  auto s = setup("{type: small_resnet, fpn: {out_channels: 8}, input: {min_size: 64, max_size: 80}}");  // scale 0.5
  auto stage = builtin_registries().features.build(Config::parse("{type: roi_align, sampling_ratio: 2}"), s->b);
  CHECK(s->b.region_shape == std::vector<int64_t>{8, 7, 7});
  const RegionFeatures f = stage->extract(s->ctx, kBoxes);
  REQUIRE(f.device);
  REQUIRE(f.rows() == 3);
  REQUIRE(f.device->sizes() == torch::IntArrayRef({3, 8, 7, 7}));
  // Single-level reference for the first box on its FPN level: k = floor(4 + log2(sqrt(30 * 39) / 224)) -> 2
  // (clamped to k_min = 2, map "0" at stride 4).
  const auto fm = std::static_pointer_cast<const FeatureMaps>(s->ctx.maps);
  RoiAlignOptions ra;
  ra.spatial_scale = 0.25;
  ra.sampling_ratio = 2;
  const torch::Tensor ref = roi_align_generic(fm->maps.at("0"), torch::tensor({{0.f, 5.f, 6.f, 35.f, 45.f}}), ra);
  CHECK((f.device->slice(0, 0, 1) - ref).abs().max().item<float>() < 1e-5f);
  CHECK(stage->extract(s->ctx, {}).rows() == 0);
}

TEST_CASE("roi_pool stage: RoI max pooling on the stride <= 16 map by default", "[features][roi_pool]") {
  torch::manual_seed(1);
  auto s = setup("{type: small_resnet, input: {min_size: 128, max_size: 160}}");  // scale 1
  auto stage = builtin_registries().features.build(Config::parse("{type: roi_pool}"), s->b);
  CHECK(s->b.region_shape == std::vector<int64_t>{64, 7, 7});  // layer3 (stride 16, 64 channels)
  const RegionFeatures f = stage->extract(s->ctx, kBoxes);
  REQUIRE(f.device->sizes() == torch::IntArrayRef({3, 64, 7, 7}));
  const auto fm = std::static_pointer_cast<const FeatureMaps>(s->ctx.maps);
  RoiPoolOptions rp;
  rp.spatial_scale = 1.0 / 16;
  const torch::Tensor rois = torch::tensor({{0.f, 10.f, 12.f, 70.f, 90.f}, {0.f, 0.f, 0.f, 160.f, 128.f}, {0.f, 100.f, 4.f, 104.f, 9.f}});
  CHECK(torch::allclose(*f.device, roi_pool_generic(fm->maps.at("layer3"), rois, rp)));
}

TEST_CASE("roi stages need a backbone and existing maps", "[features][roi_align][roi_pool]") {
  BuildContext b;
  b.registries = &builtin_registries();
  b.class_names = {"a"};
  CHECK_THROWS_WITH(builtin_registries().features.build(Config::parse("{type: roi_align}"), b),
                    Catch::Contains("backbone"));
  CHECK_THROWS_AS(builtin_registries().features.build(Config::parse("{type: roi_pool}"), b), InputError);
  auto s = setup("{type: small_resnet}");
  CHECK_THROWS_WITH(builtin_registries().features.build(Config::parse("{type: roi_pool, featmap: conv5_3}"), s->b),
                    Catch::Contains("conv5_3"));
  CHECK_THROWS_WITH(builtin_registries().features.build(Config::parse("{type: roi_align, featmaps: [layer1, layer2]}"), s->b),
                    Catch::Contains("equal channels"));
}
