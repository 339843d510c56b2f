// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// CropClassifier: crops, the classification net's taps, training through the engine, save / load, evaluation.
#include "../train/catch_torch.h"

#include <filesystem>
#include <map>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "config/config.h"
#include "core/box_ops.h"
#include "core/error.h"
#include "detectors/crop_classifier.h"
#include "detector_test_util.h"

using namespace detlab;
namespace fs = std::filesystem;

TEST_CASE("crop_box warps the grown box onto the crop, pixel centres on pixel centres", "[detectors][crop_classifier]") {
  cv::Mat img(40, 60, CV_8UC3, cv::Scalar(0, 0, 0));
  cv::rectangle(img, cv::Rect(20, 10, 10, 10), cv::Scalar(255, 255, 255), cv::FILLED);  // pixels 20..29, 10..19
  CropOptions o;
  o.size = 20;
  o.context = 0.5f;  // box 10 px -> region 20 px: scale 1, no resampling
  const cv::Mat c = crop_box(img, Box{20, 10, 30, 20}, o);
  REQUIRE(c.size() == cv::Size(20, 20));
  REQUIRE(c.at<cv::Vec3b>(5, 5) == cv::Vec3b(255, 255, 255));   // first white pixel
  REQUIRE(c.at<cv::Vec3b>(14, 14) == cv::Vec3b(255, 255, 255));
  REQUIRE(c.at<cv::Vec3b>(4, 4) == cv::Vec3b(0, 0, 0));
  REQUIRE(c.at<cv::Vec3b>(15, 15) == cv::Vec3b(0, 0, 0));
  const Box r = crop_region(Box{20, 10, 30, 20}, o);
  REQUIRE(r.x1 == 15.f);
  REQUIRE(r.y2 == 25.f);
}

TEST_CASE("crop data set: one object per crop, background away from objects, class balance", "[detectors][crop_classifier]") {
  const Dataset ds = test::tiny_synthetic(12, 3);
  CropOptions o;
  o.size = 32;
  o.background_per_image = 3;
  const Dataset crops = make_crop_dataset(ds, o, 1, false);
  REQUIRE(crops.class_names == std::vector<std::string>{"ellipse", "cross", "background"});
  size_t objects = 0;
  for (const auto& im : ds.images) objects += im.objects.size();
  int bg = 0;
  for (size_t i = 0; i < crops.images.size(); ++i) {
    REQUIRE(crops.images[i].objects.size() == 1);
    REQUIRE(crops.load_image(i).size() == cv::Size(32, 32));
    bg += crop_label(crops.images[i]) == 2;
  }
  REQUIRE(crops.images.size() == objects + static_cast<size_t>(bg));
  REQUIRE(bg > 0);
  REQUIRE(bg <= 36);
  for (size_t i = 0; i < ds.images.size(); ++i)
    for (const Box& b : sample_background(ds.images[i], 128, 128, 3, o, 1, static_cast<int>(i)))
      for (const Object& obj : ds.images[i].objects) REQUIRE(iou(b, obj.box) < o.background_max_iou);
  o.per_class = 25;
  const Dataset balanced = make_crop_dataset(ds, o, 1, false);
  std::map<int, int> count;
  for (const auto& im : balanced.images) ++count[crop_label(im)];
  REQUIRE(count.size() == 3);
  for (const auto& kv : count) REQUIRE(kv.second == 25);
  // Deterministic in the seed.
  const Dataset again = make_crop_dataset(ds, o, 1, false);
  REQUIRE(again.images.size() == balanced.images.size());
  REQUIRE(cv::norm(again.load_image(7), balanced.load_image(7)) == 0);
}

TEST_CASE("classifier net: taps in forward order up to the pooled map", "[detectors][crop_classifier]") {
  REQUIRE(backbone_taps("small_resnet") == std::vector<std::string>{"layer1", "layer2", "layer3", "layer4"});
  const auto vgg = backbone_taps("small_vgg");
  REQUIRE(vgg.front() == "conv1_1");
  REQUIRE(vgg.back() == "pool5");
  auto pos = [&](const std::string& n) { return std::find(vgg.begin(), vgg.end(), n) - vgg.begin(); };
  REQUIRE(pos("pool4") < pos("conv5_1"));
  REQUIRE(pos("conv3_2") < pos("pool3"));
  const auto mobile = backbone_taps("mobilenet_v3_small");
  auto mpos = [&](const std::string& n) { return std::find(mobile.begin(), mobile.end(), n) - mobile.begin(); };
  REQUIRE(mpos("features.2") < mpos("features.10"));
  auto net = make_classifier_net("small_resnet", "layer3", 3);
  REQUIRE(net->taps() == std::vector<std::string>{"layer1", "layer2", "layer3"});
  const auto out = net->forward(torch::randn({2, 3, 64, 64}));
  REQUIRE(out.logits.sizes() == torch::IntArrayRef({2, 3}));
  REQUIRE(out.embedding.size(1) == net->fc()->weight.size(1));
  REQUIRE(out.maps.size() == 3);
  REQUIRE_THROWS(make_classifier_net("small_resnet", "layer7", 3));
}

TEST_CASE("crop classifier config: defaults, unknown keys and bad values are input errors", "[detectors][crop_classifier]") {
  const Config ok = Config::parse("{backbone: {type: small_resnet}, crop: {size: 48}, input: {min_size: 128}}", "t");
  auto c = build_crop_classifier(ok, {"a", "b"});
  REQUIRE(c->options().class_names == std::vector<std::string>{"a", "b", "background"});
  REQUIRE(c->input_transform().fixed_width == 48);
  REQUIRE(c->image_transform().min_size == 128);
  REQUIRE(c->options().train.epochs > 0);
  REQUIRE_THROWS_AS(build_crop_classifier(Config::parse("{backbone: {type: nope}}", "t"), {"a"}), InputError);
  // One backbone key in every family: a map with `type`; the scalar form and `name` say what to write instead.
  REQUIRE_THROWS_WITH(build_crop_classifier(Config::parse("{backbone: small_resnet}", "t"), {"a"}),
                      Catch::Contains("{type: small_resnet}"));
  REQUIRE_THROWS_WITH(build_crop_classifier(Config::parse("{backbone: {name: small_resnet}}", "t"), {"a"}),
                      Catch::Contains("backbone.name: renamed"));
  REQUIRE_THROWS_AS(build_crop_classifier(Config::parse("{crop: {sise: 3}}", "t"), {"a"}), InputError);
  REQUIRE_THROWS_AS(build_crop_classifier(Config::parse("{feature: layer9}", "t"), {"a"}), InputError);
  REQUIRE_THROWS_AS(build_crop_classifier(Config::parse("{type: svm}", "t"), {"a"}), InputError);
}

TEST_CASE("crop classifier trains on synthetic crops, saves, loads and scores", "[detectors][crop_classifier]") {
  const Dataset ds = test::tiny_synthetic(40, 5);
  const Config node = Config::parse(
      "{backbone: {type: small_resnet}, crop: {size: 32, background_per_image: 2}, "
      "train: {epochs: 6, optimizer: adamw, lr: 0.003, schedule: cosine, batch_size: 32, loader: {workers: 0}}}",
      "t");
  auto c = build_crop_classifier(node, ds.class_names);
  const fs::path dir = test::temp_dir("crop_classifier");
  EngineContext ctx;
  ctx.out_dir = dir;
  ctx.quiet = true;
  ctx.seed = 1;
  const TrainResult tr = c->fit(ds.subset("train"), ctx);
  REQUIRE(tr.iterations > 0);
  c->save(dir);
  REQUIRE(is_crop_classifier_folder(dir));
  const ClassificationReport r = c->evaluate(ds.subset("train"), 1, false);
  INFO(r.table());
  REQUIRE(r.overall > 0.8);  // training crops: the net has learned something
  auto loaded = build_crop_classifier(node, ds.class_names);
  loaded->load(dir);
  std::vector<cv::Mat> crops{crop_box(ds.load_image(0), ds.images[0].objects[0].box, c->options().crop)};
  REQUIRE(torch::allclose(c->predict(crops), loaded->predict(crops)));
  auto other = build_crop_classifier(node, {"x", "y"});
  REQUIRE_THROWS_AS(other->load(dir), InputError);
  fs::remove_all(dir);
}
