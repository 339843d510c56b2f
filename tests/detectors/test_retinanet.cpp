// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The `retinanet` detector: config parsing, the GeneralizedRCNNTransform at 800 / 1333, and torchvision parity
// through the whole Detector (boxes mapped back to original pixels).
#include <catch2/catch.hpp>

#include <opencv2/core.hpp>

#include "config/config.h"
#include "core/error.h"
#include "detectors/retinanet.h"
#include "nn/test_ssd_retinanet_parity.h"
#include "nn/catch_torch.h"

using namespace detlab;

namespace {

std::vector<std::string> names(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("c" + std::to_string(i));
  return v;
}

RetinaNetDetectorOptions parse(const std::string& yaml, int classes = 3) {
  return parse_retinanet(Config::parse(yaml, "test.yaml"), names(classes));
}

cv::Mat bgr_of(const torch::Tensor& rgb) {
  const torch::Tensor bgr = rgb.flip(2).contiguous();
  return cv::Mat(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3, bgr.data_ptr<uint8_t>())
      .clone();
}

}  // namespace

TEST_CASE("retinanet config: defaults are retinanet_resnet50_fpn's, ablation keys", "[detectors][retinanet]") {
  const RetinaNetDetectorOptions d = parse("type: retinanet\n");
  CHECK(d.backbone == "resnet50");
  CHECK(d.net.transform.min_size == 800);
  CHECK(d.net.transform.max_size == 1333);
  CHECK(d.model.focal.gamma == 2.0);
  CHECK(d.model.focal.alpha == 0.25);
  CHECK(AnchorGenerator(d.model.anchors).num_anchors_per_location() == std::vector<int64_t>(5, 9));

  // The family's defaults live in the Options struct: a default-constructed one builds the same network.
  RetinaNetDetectorOptions plain;
  plain.model.num_classes = d.model.num_classes;
  CHECK(plain.backbone == d.backbone);
  CHECK(plain.resnet.layers == d.resnet.layers);
  CHECK(plain.resnet.out_features == d.resnet.out_features);
  CHECK(plain.resnet.num_classes == 0);
  CHECK(plain.fpn.extra == FpnOptions::Extra::kP6P7);
  CHECK(plain.fpn.out_channels == d.fpn.out_channels);
  CHECK(plain.model.anchors.sizes == d.model.anchors.sizes);
  CHECK(plain.model.anchors.aspect_ratios == d.model.anchors.aspect_ratios);
  CHECK(plain.net.transform.min_size == d.net.transform.min_size);
  std::vector<std::string> parsed_keys, plain_keys;
  for (const auto& p : make_retinanet_model(d)->named_parameters()) parsed_keys.push_back(p.key());
  for (const auto& p : make_retinanet_model(plain)->named_parameters()) plain_keys.push_back(p.key());
  CHECK(plain_keys == parsed_keys);

  const RetinaNetDetectorOptions a = parse(
      "type: retinanet\nbackbone: {type: small_resnet}\nfpn: {out_channels: 64}\nhead: {num_convs: 2}\n"
      "anchors: {sizes: [16, 32, 64, 128, 256], scales_per_octave: 2, aspect_ratios: [1.0]}\n"
      "loss: {gamma: 0.5, box_loss: giou}\n");
  CHECK(a.model.focal.gamma == 0.5);
  CHECK(a.model.box_loss == RetinaNetOptions::BoxLoss::kGiou);
  CHECK(AnchorGenerator(a.model.anchors).num_anchors_per_location() == std::vector<int64_t>(5, 2));
  auto det = make_retinanet(a);
  CHECK(det->num_classes() == 3);
  CHECK(det->name() == "retinanet");

  CHECK_THROWS_AS(parse("type: retinanet\nbackbone: {type: vgg16}\n"), InputError);
  CHECK_THROWS_AS(parse("type: retinanet\nanchors: {sizes: [32, 64]}\n"), InputError);  // 5 levels
  CHECK_THROWS_AS(parse("type: retinanet\nloss: {gamma: -1}\n"), InputError);
  CHECK_THROWS_AS(parse("type: retinanet\nloss: {box_loss: l2}\n"), InputError);
  CHECK_THROWS_AS(parse("type: retinanet\nbackbone: {returned_layers: [4, 3]}\n"), InputError);
}

TEST_CASE("retinanet through the Detector matches torchvision (800/1333 transform, boxes in original pixels)",
          "[detectors][retinanet][parity]") {
  const auto dir = test::tv_fixture("retinanet_resnet50_fpn");
  if (dir.empty()) return;  // skipped (DETLAB_SKIP_TV_PARITY=1), reported by tv_fixture
  const auto in = test::load_tensors(dir / "inputs.pt");
  const auto expected = test::load_tensors(dir / "outputs.pt");
  const cv::Mat bgr = bgr_of(in.at("raw_image"));

  // torchvision's default transform (min 800, max 1333, pad to 32) on the fixture image.
  const RetinaNetDetectorOptions full = parse("type: retinanet\n");
  const Batch b800 = make_eval_batch({bgr}, full.net.transform);
  REQUIRE(b800.images.sizes() == in.at("transform_800").sizes());
  CHECK(b800.meta[0].height == in.at("transform_800_size")[0].item<int64_t>());
  CHECK(b800.meta[0].width == in.at("transform_800_size")[1].item<int64_t>());
  const double t800 = test::max_abs_diff(b800.images, in.at("transform_800"));
  CHECK(t800 <= 2e-5 * std::max(1.0, in.at("transform_800").abs().max().item<double>()));

  // The fixture's network ran at min 320 / max 512 (a shorter test); the same through our Detector.
  RetinaNetDetectorOptions o = parse("type: retinanet\ninput: {min_size: 320, max_size: 512}\nmax_per_image: 300\n", 91);
  auto det = make_retinanet(o);
  REQUIRE(load_state_dict(det->module(), test::load_tensors(dir / "state_dict.pt")).ok());
  const Batch batch = make_eval_batch({bgr}, det->input_transform());
  REQUIRE(batch.images.sizes() == in.at("images").sizes());
  const double t320 = test::max_abs_diff(batch.images, in.at("images"));
  CHECK(t320 <= 2e-5 * std::max(1.0, in.at("images").abs().max().item<double>()));  // see test_ssd.cpp

  const Detections d = det->detect(Image{"fixture", bgr});
  std::vector<float> bx, s;
  std::vector<int64_t> l;
  for (const Detection& x : d) {
    bx.insert(bx.end(), {x.box.x1, x.box.y1, x.box.x2, x.box.y2});
    s.push_back(x.score);
    l.push_back(x.label);
  }
  const auto n = static_cast<int64_t>(d.size());
  NetDetections ours{torch::tensor(bx).view({n, 4}), torch::tensor(s), torch::tensor(l, torch::kLong)};
  const auto diff =
      test::require_same_detections(ours, expected.at("orig_boxes"), expected.at("scores"), expected.at("labels"));
  WARN("retinanet through the Detector: transform max diff " << t800 << " (800 px), " << t320 << " (320 px); " << n
                                                             << " detections, max box diff " << diff.box
                                                             << " px, max score diff " << diff.score);
}
