// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// rpn proposal stage: the RPN module's proposals mapped to image pixels, contract, errors, a trained model folder.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/synthetic.h"
#include "pipeline/feature_maps.h"
#include "pipeline/registries.h"
#include "pipeline/torch_stage.h"
#include "nn/catch_torch.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

const char* kBackbone = "{type: small_resnet, fpn: {out_channels: 16}, input: {min_size: 64, max_size: 64}}";

Image test_image() {
  SyntheticOptions o;
  o.num_images = 1;
  o.width = o.height = 128;
  o.min_size = 28;
  o.max_size = 56;
  const Dataset ds = make_synthetic(o);
  return Image{ds.images[0].name, ds.load_image(0)};
}

BuildContext context() {
  BuildContext b;
  b.registries = &builtin_registries();
  b.class_names = {"a", "b"};
  return b;
}

}  // namespace

TEST_CASE("rpn stage: the RPN's proposals on the backbone maps, in image pixels, sorted", "[proposals][rpn]") {
  torch::manual_seed(0);
  BuildContext b = context();
  auto backbone = builtin_registries().backbones.build(Config::parse(kBackbone), b);
  b.backbone = backbone->output_shape();
  auto stage = builtin_registries().proposals.build(Config::parse("{type: rpn, post_nms_top_n: {train: 50, test: 40}}"), b);
  REQUIRE(stage->name() == "rpn");
  REQUIRE(stage->max_proposals() == 40);
  const Image img = test_image();
  ImageContext ctx;
  ctx.image = &img;
  backbone->forward(ctx);
  CHECK(ctx.scale == Approx(0.5f));  // 128 -> 64
  const Proposals p = stage->propose(ctx);
  REQUIRE(!p.empty());
  REQUIRE(static_cast<int>(p.size()) <= 40);
  // The same RPN module on the same maps, mapped back by hand (network pixels / 0.5).
  const auto* tp = dynamic_cast<TorchProposalStage*>(stage.get());
  REQUIRE(tp != nullptr);
  const auto fm = std::static_pointer_cast<const FeatureMaps>(ctx.maps);
  std::vector<torch::Tensor> maps;
  for (const std::string& f : tp->in_features()) maps.push_back(fm->maps.at(f));
  CHECK(tp->in_features().size() == 5);  // small_resnet layer1..layer4 + the FPN's pool level
  torch::NoGradGuard no_grad;
  const RpnOutput ref = tp->rpn()->forward(fm->images, maps, {fm->image_size()});
  REQUIRE(ref.boxes[0].size(0) == static_cast<int64_t>(p.size()));
  for (size_t i = 0; i < p.size(); ++i) {
    CHECK(p[i].box.x1 == Approx(ref.boxes[0][i][0].item<float>() * 2).margin(1e-3));
    CHECK(p[i].box.y2 == Approx(ref.boxes[0][i][3].item<float>() * 2).margin(1e-3));
    CHECK(p[i].objectness == Approx(ref.scores[0][i].item<float>()));
    CHECK(p[i].box.x1 >= 0);
    CHECK(p[i].box.x2 <= 128);
    if (i) CHECK(p[i].objectness <= p[i - 1].objectness);
  }
}

TEST_CASE("rpn stage: bad configurations are InputErrors naming the key", "[proposals][rpn]") {
  BuildContext b = context();
  const auto& r = builtin_registries().proposals;
  CHECK_THROWS_AS(r.build(Config::parse("{type: rpn}"), b), InputError);  // no backbone stage
  auto backbone = builtin_registries().backbones.build(Config::parse(kBackbone), b);
  b.backbone = backbone->output_shape();
  CHECK_THROWS_WITH(r.build(Config::parse("{type: rpn, anchor_sizes: [[32], [64]]}"), b),
                    Catch::Contains("anchor_sizes") && Catch::Contains("5 maps"));
  CHECK_THROWS_WITH(r.build(Config::parse("{type: rpn, in_features: [nope]}"), b), Catch::Contains("no map 'nope'"));
  CHECK_THROWS_WITH(r.build(Config::parse("{type: rpn, nms_iou: 0}"), b), Catch::Contains("nms_iou"));
  CHECK_THROWS_WITH(r.build(Config::parse("{type: rpn, model: /no/such/folder}"), b), Catch::Contains("model"));
  // One flat list: one size per map when it has as many entries as maps; three scales on one map.
  CHECK_NOTHROW(r.build(Config::parse("{type: rpn, anchor_sizes: [16, 32, 64, 128, 256]}"), b));
  CHECK_NOTHROW(r.build(Config::parse("{type: rpn, in_features: ['3'], anchor_sizes: [64, 128, 256]}"), b));
}

TEST_CASE("rpn stage from a trained model folder: its own backbone, the folder's weights, frozen",
          "[proposals][rpn]") {
  torch::manual_seed(1);
  // A staged detector with backbone + rpn saved as `detlab train` saves it (weights + config.yaml).
  const fs::path dir = fs::path(DETLAB_BUILD_DIR) / "test_tmp" / "rpn_model_folder";
  fs::remove_all(dir);
  const std::string det_yaml = std::string("{type: staged, backbone: ") + kBackbone +
                               ", proposals: {type: rpn, post_nms_top_n: {train: 30, test: 30}}, features: {type: "
                               "roi_align}, classifier: {type: fast_rcnn_head, representation_size: 16}}";
  BuildContext b = context();
  auto source = builtin_registries().detectors.build(Config::parse(det_yaml), b);
  source->save(dir);
  std::ofstream(dir / "config.yaml") << "dataset: {type: synthetic}\ndetector: " << det_yaml << "\n";

  BuildContext plain = context();  // no backbone in this pipeline
  auto stage = builtin_registries().proposals.build(
      Config::parse("{type: rpn, model: '" + dir.string() + "', post_nms_top_n: {train: 30, test: 30}}"), plain);
  const auto* tp = dynamic_cast<TorchProposalStage*>(stage.get());
  REQUIRE(tp != nullptr);
  CHECK_FALSE(tp->trainable());
  const Image img = test_image();
  ImageContext ctx;
  ctx.image = &img;
  const Proposals p = stage->propose(ctx);
  REQUIRE(!p.empty());
  // The source detector's own RPN stage proposes the same boxes (its weights were loaded).
  BuildContext again = context();
  auto bb = builtin_registries().backbones.build(Config::parse(kBackbone), again);
  again.backbone = bb->output_shape();
  auto rpn = builtin_registries().proposals.build(Config::parse("{type: rpn, post_nms_top_n: {train: 30, test: 30}}"), again);
  bb->load(dir);
  rpn->load(dir);
  ImageContext ctx2;
  ctx2.image = &img;
  bb->forward(ctx2);
  const Proposals q = rpn->propose(ctx2);
  REQUIRE(q.size() == p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    CHECK(p[i].box.x1 == q[i].box.x1);
    CHECK(p[i].box.y2 == q[i].box.y2);
  }
}
