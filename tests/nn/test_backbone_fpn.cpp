// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FPN and BackboneWithFpn: torchvision parity (fasterrcnn / retinanet layouts), key names, shapes.
#include <catch2/catch.hpp>

#include "nn/backbones/backbone_with_fpn.h"
#include "nn/backbones/make_backbone.h"
#include "nn/backbones/resnet.h"
#include "parity.h"

using namespace detlab;

namespace {

std::shared_ptr<BackboneWithFpn> resnet_fpn(int depth, NormKind norm, std::vector<std::string> layers,
                                            const FpnOptions& fpn, int trainable_layers = 5) {
  auto o = resnet_options(depth);
  o.num_classes = 0;
  o.norm.kind = norm;
  o.out_features = std::move(layers);
  o.trainable_layers = trainable_layers;
  return std::make_shared<BackboneWithFpn>(std::make_shared<ResNet>(o), fpn);
}

}  // namespace

TEST_CASE("fasterrcnn_resnet50_fpn's backbone (FrozenBatchNorm2d, LastLevelMaxPool) matches torchvision",
          "[nn][backbone]") {
  auto model = resnet_fpn(50, NormKind::kFrozenBatchNorm, {"layer1", "layer2", "layer3", "layer4"}, FpnOptions{}, 3);
  // 2e-4 of the output range rather than 1e-4: over 50 random-weight layers float32 itself is that far off.
  // Measured against the same network in float64: torchvision's float32 output is off by 4.8e-4 .. 6.4e-4
  // (0.7e-4 .. 0.9e-4 of the range), ours (norms folded, channels-last) by 4.6e-4 .. 8.1e-4; the two float32
  // results then differ by up to 7e-4 (1.0e-4 of the range) while each is as close to the exact value.
  REQUIRE(test::check_backbone_parity(*model, "fasterrcnn_resnet50_fpn_backbone", 2e-4));
  const auto shapes = model->output_shape();
  REQUIRE(shapes.size() == 5);
  CHECK(shapes.at("0").stride == 4);
  CHECK(shapes.at("3").stride == 32);
  CHECK(shapes.at("pool").stride == 64);
  CHECK(shapes.at("pool").channels == 256);
  // trainable_layers = 3, as fasterrcnn_resnet50_fpn's default: the body's conv1 and layer1 are frozen.
  CHECK_FALSE(module_state_dict(*model).at("body.layer1.0.conv1.weight").requires_grad());
  CHECK(module_state_dict(*model).at("body.layer2.0.conv1.weight").requires_grad());
  CHECK(module_state_dict(*model).at("fpn.inner_blocks.0.0.weight").requires_grad());
}

TEST_CASE("fasterrcnn backbone weights load from a detector checkpoint with the backbone. prefix mapped",
          "[nn][backbone][weights]") {
  const auto dir = test::tv_fixture("fasterrcnn_resnet50_fpn_backbone");
  if (dir.empty()) return;
  auto model = resnet_fpn(50, NormKind::kFrozenBatchNorm, {"layer1", "layer2", "layer3", "layer4"}, FpnOptions{});
  // The keys as they appear in fasterrcnn_resnet50_fpn's state_dict, plus a head that is not ours.
  StateDict detector;
  for (const auto& kv : test::load_tensors(dir / "state_dict.pt")) detector["backbone." + kv.first] = kv.second;
  detector["rpn.head.conv.0.0.weight"] = torch::zeros({256, 256, 3, 3});
  LoadOptions opts;
  opts.rename = {{"backbone.", ""}};
  opts.drop_unrenamed = true;
  const auto report = load_state_dict(*model, detector, opts);
  CHECK(report.ok());
  CHECK(report.ignored == std::vector<std::string>{"rpn.head.conv.0.0.weight"});
  CHECK(report.loaded.size() == module_state_dict(*model).size());
}

TEST_CASE("retinanet-style FPN (layers 2..4, P6/P7 from P5) matches torchvision", "[nn][backbone]") {
  FpnOptions fpn;
  fpn.extra = FpnOptions::Extra::kP6P7;
  auto model = resnet_fpn(18, NormKind::kFrozenBatchNorm, {"layer2", "layer3", "layer4"}, fpn);
  REQUIRE(test::check_backbone_parity(*model, "resnet18_fpn_p6p7"));
  const auto shapes = model->output_shape();
  CHECK(shapes.at("0").stride == 8);
  CHECK(shapes.at("p6").stride == 64);
  CHECK(shapes.at("p7").stride == 128);
}

TEST_CASE("v2-style FPN (BatchNorm2d in the FPN, P6 from C5) matches torchvision", "[nn][backbone]") {
  FpnOptions fpn;
  fpn.extra = FpnOptions::Extra::kP6P7;
  fpn.p6p7_from_c5 = true;
  fpn.norm.kind = NormKind::kBatchNorm;
  auto model = resnet_fpn(18, NormKind::kBatchNorm, {"layer2", "layer3", "layer4"}, fpn);
  REQUIRE(test::check_backbone_parity(*model, "resnet18_fpn_v2_c5"));
  CHECK(module_state_dict(*model).at("fpn.extra_blocks.p6.weight").size(1) == 512);  // C5's channels
}

TEST_CASE("FPN keeps each input's size and halves the last for the extra level", "[nn][backbone]") {
  FpnOptions o;
  o.out_channels = 8;
  FeaturePyramidNetwork fpn(std::vector<int64_t>{4, 6}, o);
  torch::NoGradGuard no_grad;
  const auto out = fpn->forward({torch::randn({2, 4, 15, 9}), torch::randn({2, 6, 8, 5})});
  REQUIRE(out.size() == 3);
  CHECK(out[0].sizes() == torch::IntArrayRef({2, 8, 15, 9}));
  CHECK(out[1].sizes() == torch::IntArrayRef({2, 8, 8, 5}));
  CHECK(out[2].sizes() == torch::IntArrayRef({2, 8, 4, 3}));  // max_pool2d(k=1, s=2): ceil
  CHECK(fpn->extra_names() == std::vector<std::string>{"pool"});
  CHECK_THROWS(fpn->forward({torch::randn({2, 5, 15, 9}), torch::randn({2, 6, 8, 5})}));  // wrong channels
}

TEST_CASE("make_backbone with fpn wraps the body as torchvision's BackboneWithFPN", "[nn][backbone]") {
  BackboneOptions o;
  o.fpn = FpnOptions{};
  auto bb = make_backbone("mobilenet_v3_large", o);
  const auto keys = module_state_dict(*bb);
  CHECK(keys.count("body.features.16.0.weight"));
  CHECK(keys.count("fpn.inner_blocks.1.0.weight"));
  CHECK(keys.at("fpn.inner_blocks.0.0.weight").size(1) == 160);
  CHECK(keys.at("fpn.inner_blocks.1.0.weight").size(1) == 960);
  const auto shapes = bb->output_shape();
  CHECK(shapes.size() == 3);  // "0", "1", "pool" as fasterrcnn_mobilenet_v3_large_fpn
  CHECK(shapes.at("pool").stride == 64);
}
