// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of the `yolo` detector builder: config keys reach the model, bad configs name the key, save / load.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "detectors/detector_test_util.h"
#include "detectors/yolo.h"
#include "experiment/run_config.h"
#include "pipeline/registries.h"

using namespace detlab;

namespace {

const std::vector<std::string> kClasses = {"a", "b", "c"};

YoloDetectorOptions parse(const std::string& yaml) {
  const Config node = Config::parse(yaml, "test.yaml");
  YoloDetectorOptions o = parse_yolo(node, kClasses);
  node.expect_consumed();
  return o;
}

}  // namespace

TEST_CASE("yolo config: paper defaults, every key reaches the options", "[detectors][yolo]") {
  const YoloDetectorOptions d = parse("{type: yolo}");
  CHECK(d.net.transform.fixed_width == 448);
  CHECK(d.net.transform.fixed_height == 448);
  CHECK(d.model.head.grid_size == 7);
  CHECK(d.model.head.num_boxes == 2);
  CHECK(d.model.loss.lambda_coord == 5);
  CHECK(d.model.loss.lambda_noobj == 0.5);
  CHECK(d.model.num_classes == 3);

  const YoloDetectorOptions o = parse(
      "{type: yolo, input: {fixed_size: 224, size_divisibility: 32}, grid_size: 14, num_boxes: 3, "
      "backbone: {type: small_vgg, feature: conv5_2, norm: none}, "
      "head: {hidden_channels: 64, num_convs: 1, fc_hidden: 128, dropout: 0.2, batch_norm: false, leaky_slope: 0.2}, "
      "loss: {lambda_coord: 2, lambda_noobj: 0.25, rescore: false, one_object_per_cell: false}, "
      "score_thresh: 0.1, nms_iou: 0.4, pre_nms_top_k: 50, max_per_image: 20}");
  CHECK(o.net.transform.fixed_width == 224);
  CHECK(o.model.head.grid_size == 14);
  CHECK(o.model.head.num_boxes == 3);
  CHECK(o.backbone == "small_vgg");
  CHECK(o.feature == "conv5_2");
  CHECK(o.backbone_options.norm == NormKind::kNone);
  CHECK(o.model.head.hidden_channels == 64);
  CHECK(o.model.head.num_convs == 1);
  CHECK(o.model.head.fc_hidden == 128);
  CHECK(o.model.head.dropout == 0.2);
  CHECK_FALSE(o.model.head.batch_norm);
  CHECK(o.model.head.leaky_slope == 0.2);
  CHECK(o.model.loss.lambda_coord == 2);
  CHECK(o.model.loss.lambda_noobj == 0.25);
  CHECK_FALSE(o.model.loss.rescore);
  CHECK_FALSE(o.model.loss.one_object_per_cell);
  CHECK(o.model.score_thresh == 0.1);
  CHECK(o.model.nms_iou == 0.4);
  CHECK(o.model.pre_nms_top_k == 50);
  CHECK(o.model.detections_per_img == 20);
}

TEST_CASE("yolo config: bad values name the key", "[detectors][yolo]") {
  auto error_of = [](const std::string& yaml) {
    try {
      parse(yaml);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of("{type: yolo, grid_size: 0}"), Catch::Contains("test.yaml: grid_size: must be positive"));
  CHECK_THAT(error_of("{type: yolo, input: {min_size: 300}}"), Catch::Contains("input: YOLO needs a fixed input size"));
  CHECK_THAT(error_of("{type: yolo, input: {fixed_size: 200, size_divisibility: 32}}"),
             Catch::Contains("multiple of size_divisibility"));
  CHECK_THAT(error_of("{type: yolo, train: {iterations: 5, loader: {scale_jitter: [0.8, 1.2]}}}"),
             Catch::Contains("train: scale jitter"));
  CHECK_THAT(error_of("{type: yolo, backbone: {type: resnet7}}"), Catch::Contains("backbone.type: unknown backbone"));
  CHECK_THAT(error_of("{type: yolo, backbone: {name: small_resnet}}"), Catch::Contains("backbone.name: renamed"));
  CHECK_THAT(error_of("{type: yolo, loss: {lambda_noobj: -1}}"), Catch::Contains("loss.lambda_noobj"));
  CHECK_THAT(error_of("{type: yolo, nms_iou: 0}"), Catch::Contains("nms_iou"));
  CHECK_THAT(error_of("{type: yolo, head: {dropout: 1.5}}"), Catch::Contains("head.dropout"));
  CHECK_THROWS_WITH(parse("{type: yolo, grid_sise: 7}"), Catch::Contains("grid_sise"));  // unknown key
}

TEST_CASE("yolo builder: feature auto picks the deepest map with S cells, --set reaches the grid",
          "[detectors][yolo]") {
  const std::string yaml =
      "name: t\ndataset: {type: synthetic, num_images: 6, width: 64, height: 64, min_size: 16, max_size: 24}\n"
      "detector: {type: yolo, input: {fixed_size: 128, size_divisibility: 32}, head: {hidden_channels: 16}}\n";
  for (const auto& [s, feature] :
       std::vector<std::pair<int, std::string>>{{4, "layer4"}, {8, "layer3"}, {16, "layer2"}}) {
    const RunConfig rc = parse_run_config(yaml, {"detector.grid_size=" + std::to_string(s)});
    std::unique_ptr<Detector> det = build_detector(rc);
    auto* net = dynamic_cast<NetworkDetector*>(det.get());
    REQUIRE(net != nullptr);
    auto* model = dynamic_cast<YoloV1*>(net->model().get());
    REQUIRE(model != nullptr);
    CHECK(model->options().head.grid_size == s);
    CHECK(model->feature() == feature);
    const Image img{"x", cv::Mat(80, 120, CV_8UC3, cv::Scalar(90, 40, 200))};
    test::check_detections_contract(det->detect(img), 120, 80, 4);
  }
  // A feature the backbone does not have is an input error naming the detector node.
  CHECK_THROWS_AS(build_detector(parse_run_config(yaml, {"detector.backbone={feature: layer7}"})), InputError);
  // So is a backbone weights file that does not exist: one line naming the file and the key.
  try {
    build_detector(parse_run_config(yaml, {"detector.backbone={weights: /nonexistent/resnet.pt}"}));
    FAIL("no error for a missing weights file");
  } catch (const InputError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("/nonexistent/resnet.pt: detector.backbone.weights: "));
  }
}

TEST_CASE("yolo detector saves and loads: identical detections", "[detectors][yolo]") {
  const Config node = Config::parse(
      "{type: yolo, input: {fixed_size: 96, size_divisibility: 32}, grid_size: 3, head: {hidden_channels: 16}, "
      "score_thresh: 0.0}",
      "t.yaml");
  BuildContext ctx;
  ctx.class_names = kClasses;
  // Seeded: the random initial weights must give detections to compare, whatever tests ran before in this process.
  torch::manual_seed(7);
  std::unique_ptr<Detector> a = build_yolo(node, ctx);
  const auto dir = test::temp_dir("yolo_save");
  a->save(dir);
  torch::manual_seed(123);  // a differently initialised twin
  std::unique_ptr<Detector> b = build_yolo(node, ctx);
  const Image img{"x", cv::Mat(100, 140, CV_8UC3, cv::Scalar(10, 120, 240))};
  b->load(dir);
  const Detections da = a->detect(img), db = b->detect(img);
  REQUIRE(da.size() == db.size());
  REQUIRE(!da.empty());
  for (size_t i = 0; i < da.size(); ++i) {
    CHECK(da[i].score == db[i].score);
    CHECK(da[i].box.x1 == db[i].box.x1);
    CHECK(da[i].label == db[i].label);
  }
}
