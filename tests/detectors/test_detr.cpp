// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of the `detr` detector builder: config keys reach the model, bad configs name the key, save / load.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "detectors/detector_test_util.h"
#include "detectors/detr.h"
#include "experiment/run_config.h"

using namespace detlab;

namespace {

const std::vector<std::string> kClasses = {"a", "b"};

DetrDetectorOptions parse(const std::string& yaml) {
  const Config node = Config::parse(yaml, "test.yaml");
  DetrDetectorOptions o = parse_detr(node, kClasses);
  node.expect_consumed();
  return o;
}

const char* kTiny =
    "{type: detr, input: {min_size: 96, max_size: 128}, num_queries: 6, "
    "transformer: {d_model: 32, nhead: 4, num_encoder_layers: 1, num_decoder_layers: 2, dim_feedforward: 64}}";

}  // namespace

TEST_CASE("detr config: the paper's defaults, every key reaches the options", "[detectors][detr]") {
  const DetrDetectorOptions d = parse("{type: detr}");
  CHECK(d.model.num_queries == 100);
  CHECK(d.model.transformer.d_model == 256);
  CHECK(d.model.transformer.nhead == 8);
  CHECK(d.model.transformer.num_encoder_layers == 6);
  CHECK(d.model.transformer.num_decoder_layers == 6);
  CHECK(d.model.transformer.dim_feedforward == 2048);
  CHECK(d.model.transformer.dropout == 0.1);
  CHECK(d.model.matcher.cost_class == 1);
  CHECK(d.model.matcher.cost_bbox == 5);
  CHECK(d.model.matcher.cost_giou == 2);
  CHECK(d.model.criterion.eos_coef == 0.1);
  CHECK(d.model.criterion.aux_loss);
  CHECK(d.model.backbone_lr_multiplier == 0.1);
  CHECK_FALSE(d.model.anchor_points);
  CHECK_FALSE(d.model.two_stage);
  CHECK(parse("{type: detr, two_stage: true}").model.two_stage);
  CHECK(d.model.num_classes == 2);

  const DetrDetectorOptions o = parse(
      "{type: detr, backbone: {type: resnet18, feature: layer3, norm: frozen_batch_norm, trainable_layers: 3, "
      "lr_multiplier: 0.5}, num_queries: 20, "
      "transformer: {d_model: 64, nhead: 2, num_encoder_layers: 0, num_decoder_layers: 3, dim_feedforward: 96, "
      "dropout: 0.0}, matcher: {cost_class: 2, cost_bbox: 4, cost_giou: 1}, "
      "loss: {eos_coef: 0.2, ce: 2, bbox: 4, giou: 1, aux_loss: false}}");
  CHECK(o.backbone == "resnet18");
  CHECK(o.model.feature == "layer3");
  CHECK(o.backbone_options.norm == NormKind::kFrozenBatchNorm);
  CHECK(o.backbone_options.trainable_layers == 3);
  CHECK(o.model.backbone_lr_multiplier == 0.5);
  CHECK(o.model.num_queries == 20);
  CHECK(o.model.transformer.d_model == 64);
  CHECK(o.model.transformer.nhead == 2);
  CHECK(o.model.transformer.num_encoder_layers == 0);
  CHECK(o.model.transformer.num_decoder_layers == 3);
  CHECK(o.model.transformer.dim_feedforward == 96);
  CHECK(o.model.transformer.dropout == 0.0);
  CHECK(o.model.matcher.cost_class == 2);
  CHECK(o.model.matcher.cost_bbox == 4);
  CHECK(o.model.matcher.cost_giou == 1);
  CHECK(o.model.criterion.eos_coef == 0.2);
  CHECK(o.model.criterion.weight_ce == 2);
  CHECK(o.model.criterion.weight_bbox == 4);
  CHECK(o.model.criterion.weight_giou == 1);
  CHECK_FALSE(o.model.criterion.aux_loss);
}

TEST_CASE("detr config: bad values name the key", "[detectors][detr]") {
  auto error_of = [](const std::string& yaml) {
    try {
      parse(yaml);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of("{type: detr, num_queries: 0}"), Catch::Contains("test.yaml: num_queries: must be positive"));
  CHECK_THAT(error_of("{type: detr, transformer: {d_model: 30, nhead: 2}}"), Catch::Contains("transformer.d_model"));
  CHECK_THAT(error_of("{type: detr, transformer: {d_model: 64, nhead: 3}}"), Catch::Contains("transformer.nhead"));
  CHECK_THAT(error_of("{type: detr, loss: {eos_coef: 0}}"), Catch::Contains("loss.eos_coef"));
  CHECK_THAT(error_of("{type: detr, matcher: {cost_class: 0, cost_bbox: 0, cost_giou: 0}}"),
             Catch::Contains("matcher"));
  CHECK_THAT(error_of("{type: detr, backbone: {lr_multiplier: -1}}"), Catch::Contains("backbone.lr_multiplier"));
  CHECK_THAT(error_of("{type: detr, anchor_points: true, two_stage: true}"),
             Catch::Contains("two_stage: excludes anchor_points"));
  CHECK_THROWS_WITH(parse("{type: detr, num_queris: 5}"), Catch::Contains("num_queris"));
}

TEST_CASE("detr builder: --set reaches the number of queries, detections follow the contract", "[detectors][detr]") {
  const std::string yaml = std::string(
                               "name: t\ndataset: {type: synthetic, num_images: 6, width: 64, height: 64, "
                               "min_size: 16, max_size: 24, classes: [ellipse, cross]}\ndetector: ") +
                           kTiny + "\n";
  const RunConfig rc = parse_run_config(yaml, {"detector.num_queries=13"});
  std::unique_ptr<Detector> det = build_detector(rc);
  auto* net = dynamic_cast<NetworkDetector*>(det.get());
  REQUIRE(net != nullptr);
  auto* model = dynamic_cast<Detr*>(net->model().get());
  REQUIRE(model != nullptr);
  CHECK(model->options().num_queries == 13);
  CHECK(model->feature() == "layer4");
  const Image img{"x", cv::Mat(90, 150, CV_8UC3, cv::Scalar(90, 40, 200))};
  const Detections d = det->detect(img);
  CHECK(d.size() == 13);  // one per query, no NMS
  test::check_detections_contract(d, 150, 90, 2);
  CHECK_THROWS_AS(build_detector(parse_run_config(yaml, {"detector.backbone={feature: layer9}"})), InputError);
}

TEST_CASE("detr detector saves and loads: identical detections", "[detectors][detr]") {
  const Config node = Config::parse(kTiny, "t.yaml");
  BuildContext ctx;
  ctx.class_names = kClasses;
  std::unique_ptr<Detector> a = build_detr(node, ctx);
  const auto dir = test::temp_dir("detr_save");
  a->save(dir);
  torch::manual_seed(321);
  std::unique_ptr<Detector> b = build_detr(node, ctx);
  b->load(dir);
  const Image img{"x", cv::Mat(100, 140, CV_8UC3, cv::Scalar(10, 120, 240))};
  const Detections da = a->detect(img), db = b->detect(img);
  REQUIRE(da.size() == 6);
  REQUIRE(da.size() == db.size());
  for (size_t i = 0; i < da.size(); ++i) {
    CHECK(da[i].score == db[i].score);
    CHECK(da[i].box.x2 == db[i].box.x2);
    CHECK(da[i].label == db[i].label);
  }
}
