// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The `ssd` detector: config parsing, and torchvision parity through the whole Detector (our preprocessing
// against GeneralizedRCNNTransform's fixed-size resize, detections mapped back to original pixels).
#include <catch2/catch.hpp>

#include <opencv2/core.hpp>

#include "config/config.h"
#include "core/error.h"
#include "detectors/ssd.h"
#include "nn/test_ssd_retinanet_parity.h"
#include "nn/catch_torch.h"

using namespace detlab;

namespace {

std::vector<std::string> names(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back("c" + std::to_string(i));
  return v;
}

SsdDetectorOptions parse(const std::string& yaml, int classes = 3) {
  return parse_ssd(Config::parse(yaml, "test.yaml"), names(classes));
}

// The fixture's raw RGB image as an OpenCV BGR image.
cv::Mat bgr_of(const torch::Tensor& rgb) {
  const torch::Tensor bgr = rgb.flip(2).contiguous();
  return cv::Mat(static_cast<int>(rgb.size(0)), static_cast<int>(rgb.size(1)), CV_8UC3, bgr.data_ptr<uint8_t>())
      .clone();
}

// Loads the fixture into the detector, checks the preprocessed tensor against torchvision's transform, then the
// Detector's detections (original pixels) against torchvision's transform.postprocess output.
void check_detector_parity(NetworkDetector& det, const std::string& fixture, int label_offset) {
  const auto dir = test::tv_fixture(fixture);
  if (dir.empty()) return;  // skipped (DETLAB_SKIP_TV_PARITY=1), reported by tv_fixture
  REQUIRE(load_state_dict(det.module(), test::load_tensors(dir / "state_dict.pt")).ok());
  const auto in = test::load_tensors(dir / "inputs.pt");
  const auto expected = test::load_tensors(dir / "outputs.pt");
  const cv::Mat bgr = bgr_of(in.at("raw_image"));

  const Batch batch = make_eval_batch({bgr}, det.input_transform());
  const torch::Tensor tv_images = in.at("images");
  REQUIRE(batch.images.sizes() == tv_images.sizes());
  const double transform_diff = test::max_abs_diff(batch.images, tv_images);
  const double scale = std::max(1.0, tv_images.abs().max().item<double>());
  // OpenCV's and torch's bilinear weights agree to ~1e-5 (both float32, computed differently); times a neighbour
  // contrast of up to the full value range that is ~1e-5 of the range (measured: 1.2e-5 for SSD300's 0..255
  // scale, 6e-8 for SSDlite's [-1, 1]).
  CHECK(transform_diff <= 2e-5 * scale);

  const Detections d = det.detect(Image{"fixture", bgr});
  NetDetections ours;
  std::vector<float> b, s;
  std::vector<int64_t> l;
  for (const Detection& x : d) {
    b.insert(b.end(), {x.box.x1, x.box.y1, x.box.x2, x.box.y2});
    s.push_back(x.score);
    l.push_back(x.label);
  }
  const auto n = static_cast<int64_t>(d.size());
  ours.boxes = torch::tensor(b).view({n, 4});
  ours.scores = torch::tensor(s);
  ours.labels = torch::tensor(l, torch::kLong);
  const auto diff = test::require_same_detections(ours, expected.at("orig_boxes"), expected.at("scores"),
                                                  expected.at("labels") - label_offset);
  WARN(fixture << " through the Detector: transform max diff " << transform_diff << " (values up to " << scale
               << "), " << n << " detections, max box diff " << diff.box << " px (original image), max score diff "
               << diff.score);
}

}  // namespace

TEST_CASE("ssd config: backbone presets and the keys ablations use", "[detectors][ssd]") {
  const SsdDetectorOptions vgg = parse("type: ssd\n");
  CHECK(vgg.backbone == "vgg16");
  CHECK(vgg.net.transform.fixed_width == 300);
  CHECK(vgg.net.transform.std[0] == Approx(1.0 / 255));
  CHECK(vgg.model.anchors.steps.size() == 6);
  CHECK(vgg.model.head == SsdHeadOptions::Kind::kConv);

  const SsdDetectorOptions lite = parse("type: ssd\nbackbone: {type: mobilenet_v3_large}\n");
  CHECK(lite.net.transform.fixed_width == 320);
  CHECK(lite.model.head == SsdHeadOptions::Kind::kLite);
  CHECK(lite.model.post.score_thresh == Approx(0.001));

  const SsdDetectorOptions small = parse(
      "type: ssd\nbackbone: {type: small_vgg}\nanchors: {aspect_ratios: [[2], [2], [2], [2], [2], [2]]}\n"
      "loss: {neg_to_pos: 2}\ninput: {fixed_size: 192}\n");
  CHECK(small.model.anchors.aspect_ratios.size() == 6);
  CHECK(small.model.loss.neg_to_pos == 2.0);
  CHECK(small.net.transform.fixed_width == 192);
  auto det = make_ssd(small);
  CHECK(det->num_classes() == 3);
  CHECK(det->name() == "ssd");

  // Changing the ratios of the SSD300 preset drops its per-map steps / scales only when the map count changes.
  CHECK(parse("type: ssd\nanchors: {aspect_ratios: [[2], [2], [2], [2], [2], [2]]}\n").model.anchors.steps.size() == 6);

  // SSD's augmentation: off by default; its colour steps work in the detector's own normalization.
  CHECK_FALSE(small.model.augment.enabled());
  const SsdDetectorOptions aug =
      parse("type: ssd\naugment: {photometric: true, expand: 4, crop: true, min_scale: 0.5}\n");
  CHECK(aug.model.augment.photometric);
  CHECK(aug.model.augment.crop);
  CHECK(aug.model.augment.expand == 4.0);
  CHECK(aug.model.augment.min_scale == 0.5);
  CHECK(aug.model.augment.std[0] == Approx(1.0 / 255));  // SSD300's Caffe normalization
  CHECK(aug.model.augment.mean == aug.net.transform.mean);
  CHECK_THROWS_WITH(parse("type: ssd\naugment: {expand: 0.5}\n"), Catch::Contains("augment.expand"));
  CHECK_THROWS_WITH(parse("type: ssd\naugment: {min_scale: 0}\n"), Catch::Contains("augment.min_scale"));

  CHECK_THROWS_AS(parse("type: ssd\nbackbone: {type: resnet50}\n"), InputError);
  CHECK_THROWS_AS(parse("type: ssd\nanchors: {aspect_ratios: [[2], [2]]}\n"), InputError);  // 6 maps
  CHECK_THROWS_AS(parse("type: ssd\nloss: {iou_thresh: 0}\n"), InputError);
  CHECK_THROWS_AS(parse("type: ssd\nhead: {type: dense}\n"), InputError);
  CHECK_THROWS_AS(parse("type: ssd\ninput: {fixed_size: 0}\n"), InputError);
}

TEST_CASE("ssd300_vgg16 through the Detector matches torchvision (transform, boxes in original pixels)",
          "[detectors][ssd][parity]") {
  SsdDetectorOptions o = parse("type: ssd\nmax_per_image: 300\n", 90);
  auto det = make_ssd(o);
  check_detector_parity(*det, "ssd300_vgg16", 1);
}

TEST_CASE("ssdlite320_mobilenet_v3_large through the Detector matches torchvision", "[detectors][ssd][parity]") {
  SsdDetectorOptions o = parse("type: ssd\nbackbone: {type: mobilenet_v3_large}\nmax_per_image: 300\n", 90);
  auto det = make_ssd(o);
  check_detector_parity(*det, "ssdlite320_mobilenet_v3_large", 1);
}
