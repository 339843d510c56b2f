// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Contract test: every registered stage and detector, built with its defaults, meets its ensures clauses.
// A stage registered tomorrow is tested the day it is added (a name missing below fails the test).
#include <catch2/catch.hpp>

#include <map>

#include "classifiers/fake_region_source.h"
#include "detectors/detector_test_util.h"
#include "pipeline/registries.h"
#include "pipeline/training.h"

using namespace detlab;

namespace {

/// Extra keys for stages that cannot be built from nothing (their required options).
const std::map<std::string, std::string>& required_keys() {
  static const std::map<std::string, std::string> m = {
      {"precomputed", "source: {type: sliding_window, windows: [32, 32]}"},
      {"fast_rcnn_head", "in_features: 12, representation_size: 16, fit: {epochs: 2}"},  // FakeRegionSource: 2K + 6
      {"cnn_crop", "size: 32, context: 2"},
  };
  return m;
}

Config node_for(const std::string& name) {
  const auto it = required_keys().find(name);
  return Config::parse("{type: " + name + (it == required_keys().end() ? "" : ", " + it->second) + "}",
                       "contract:" + name);
}

BuildContext build_context(const std::vector<std::string>& classes) {
  BuildContext b;
  b.registries = &builtin_registries();
  b.class_names = classes;
  return b;
}

/// Stages that read a backbone stage's maps (torch builds): the test gives them a small one.
bool needs_backbone(const std::string& name) { return name == "rpn" || name == "roi_align" || name == "roi_pool"; }

std::unique_ptr<BackboneStage> small_backbone(BuildContext& b) {
  auto bb = b.registries->backbones.build(
      Config::parse("{type: small_resnet, fpn: {out_channels: 16}, input: {min_size: 128, max_size: 128}}"), b);
  b.backbone = bb->output_shape();
  return bb;
}

}  // namespace

TEST_CASE("every proposal stage: boxes inside the image, sorted, at most max_proposals", "[detectors][contracts]") {
  const Registries& r = builtin_registries();
  REQUIRE(!r.proposals.names().empty());
  const Dataset ds = test::tiny_synthetic(6);
  for (const std::string& name : r.proposals.names()) {
    INFO("proposal stage " << name);
    BuildContext b = build_context(ds.class_names);
    std::unique_ptr<BackboneStage> backbone = needs_backbone(name) ? small_backbone(b) : nullptr;
    auto stage = r.proposals.build(node_for(name), b);
    REQUIRE(stage->name() == name);
    stage->fit(ds);
    for (size_t i = 0; i < 2; ++i) {
      const Image img{ds.images[i].name, ds.load_image(i)};
      ImageContext ctx;
      ctx.image = &img;
      if (backbone) backbone->forward(ctx);
      const Proposals p = stage->propose(ctx);
      REQUIRE(static_cast<int>(p.size()) <= stage->max_proposals());
      for (size_t k = 0; k < p.size(); ++k) {
        REQUIRE(p[k].box.x1 >= 0);
        REQUIRE(p[k].box.y1 >= 0);
        REQUIRE(p[k].box.x2 <= img.bgr.cols);
        REQUIRE(p[k].box.y2 <= img.bgr.rows);
        REQUIRE(p[k].box.x2 >= p[k].box.x1);
        REQUIRE(p[k].box.y2 >= p[k].box.y1);
        if (k) REQUIRE(p[k].objectness <= p[k - 1].objectness);
      }
    }
  }
}

TEST_CASE("every feature stage: one row per region, exactly one of host / device", "[detectors][contracts]") {
  const Registries& r = builtin_registries();
  REQUIRE(!r.features.names().empty());
  const Dataset ds = test::tiny_synthetic(2);
  const Image img{ds.images[0].name, ds.load_image(0)};
  ImageContext ctx;
  ctx.image = &img;
  BuildContext b = build_context(ds.class_names);
  auto windows = r.proposals.build(Config::parse("{type: sliding_window, windows: [32, 32]}"), b);
  const Proposals sliding = windows->propose(ctx);
  const Proposals arbitrary = {{{3.5f, 7.25f, 60.f, 41.f}, 1.f}, {{0, 0, 128, 128}, 0.5f}, {{10, 10, 11, 12}, 0.f}};
  for (const std::string& name : r.features.names()) {
    INFO("feature stage " << name);
    BuildContext fb = build_context(ds.class_names);
    if (needs_backbone(name)) {
      auto backbone = small_backbone(fb);
      backbone->forward(ctx);
    } else {
      ctx.maps.reset();
    }
    auto stage = r.features.build(node_for(name), fb);
    REQUIRE(stage->name() == name);
    for (const Proposals* p : {&sliding, &arbitrary}) {
      const RegionFeatures f = stage->extract(ctx, *p);
      REQUIRE((f.host.empty() != !f.device));
      REQUIRE(f.rows() == static_cast<int>(p->size()));
      REQUIRE((f.groups.empty() || f.groups.size() == p->size()));
      for (int g : f.groups) REQUIRE(f.dim(g) <= (f.device ? f.dim(g) : f.host.cols));
    }
    const RegionFeatures none = stage->extract(ctx, {});
    REQUIRE(none.rows() == 0);
  }
}

TEST_CASE("every classifier stage: scores N x (K+1), deltas empty or N x 4K", "[detectors][contracts]") {
  const Registries& r = builtin_registries();
  REQUIRE(!r.classifiers.names().empty());
  for (const std::string& name : r.classifiers.names()) {
    INFO("classifier stage " << name);
    test::FakeRegionSource src(6, 3);
    BuildContext b = build_context(src.class_names());
    auto stage = r.classifiers.build(node_for(name), b);
    REQUIRE(stage->name() == name);
    REQUIRE(stage->num_classes() == 3);
    ClassifierTrainContext tc;
    tc.source = &src;
    stage->fit(tc);
    const RegionFeatures f = src.describe(0, src.proposals_of(0), nullptr);
    const RegionScores s = stage->classify(f);
    REQUIRE(s.scores.rows == f.rows());
    REQUIRE(s.scores.cols == 4);
    REQUIRE(s.scores.type() == CV_32F);
    REQUIRE((s.deltas.empty() || (s.deltas.rows == f.rows() && s.deltas.cols == 12)));
  }
}

TEST_CASE("every detector: fit, then detections clipped, sorted, capped, labelled", "[detectors][contracts]") {
  const Registries& r = builtin_registries();
  REQUIRE(!r.detectors.names().empty());
  // Detectors that need parts: the classical staged pipeline.
  const std::map<std::string, std::string> parts = {
      {"staged",
       "proposals: {type: sliding_window, windows: auto, window_area: 1024}, features: {type: hog}, "
       "classifier: {type: linear_svm, mining: {rounds: 1}}"},
      // Deep detectors: a small network and a couple of iterations (the contract, not the accuracy).
      {"faster_rcnn",
       "backbone: {type: small_resnet, fpn: {out_channels: 16}}, input: {min_size: 128, max_size: 128}, "
       "representation_size: 32, train: {iterations: 2, batch_size: 2}"},
      {"ssd", "backbone: {type: small_vgg}, input: {fixed_size: 128}, train: {iterations: 2, batch_size: 2}"},
      {"retinanet",
       "backbone: {type: small_resnet}, fpn: {out_channels: 16}, head: {num_convs: 1}, "
       "input: {min_size: 128, max_size: 128}, train: {iterations: 2, batch_size: 2}"},
      {"yolo",
       "backbone: {type: small_resnet}, input: {fixed_size: 128, size_divisibility: 32}, grid_size: 4, "
       "head: {hidden_channels: 32, num_convs: 1}, train: {iterations: 2, batch_size: 2}"},
      {"detr",
       "backbone: {type: small_resnet}, input: {min_size: 128, max_size: 128}, num_queries: 5, "
       "transformer: {d_model: 32, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 1, dim_feedforward: 32}, "
       "train: {iterations: 2, batch_size: 2}"},
  };
  const Dataset ds = test::tiny_synthetic(18);
  const Dataset train = ds.subset("train");
  for (const std::string& name : r.detectors.names()) {
    INFO("detector " << name);
    const auto it = parts.find(name);
    BuildContext b = build_context(ds.class_names);
    auto det = r.detectors.build(
        Config::parse("{type: " + name + (it == parts.end() ? "" : ", " + it->second) + "}", "contract"), b);
    REQUIRE(det->name() == name);
    REQUIRE(det->num_classes() == 2);
    TrainContext tc;
    tc.train = &train;
    tc.threads = 2;
    tc.out_dir = test::temp_dir("contract_" + name);  // checkpoints of detectors trained by the engine
    det->fit(tc);
    for (size_t i = 0; i < ds.images.size(); i += 5) {
      const Image img{ds.images[i].name, ds.load_image(i)};
      test::check_detections_contract(det->detect(img), img.bgr.cols, img.bgr.rows, 2);
    }
  }
}
