// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Grad-CAM of a classifier trained here on synthetic crops peaks inside the object's box.
#include "../train/catch_torch.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <opencv2/core.hpp>

#include "config/config.h"
#include "data/synthetic.h"
#include "detectors/crop_classifier.h"
#include "viz/classifier_model.h"
#include "viz/grad_cam.h"
#include "viz/figures.h"
#include "viz/heatmap.h"

using namespace detlab;
namespace fs = std::filesystem;

TEST_CASE("Grad-CAM of a synthetic-data classifier peaks inside the object's box", "[viz][grad_cam][e2e]") {
  SyntheticOptions so;
  so.num_images = 200;
  so.width = so.height = 128;
  so.min_size = 32;
  so.max_size = 56;
  so.max_objects = 3;
  so.max_aspect = 1.3f;  // no thin shapes
  so.clutter_lines = 1;  // few distractors: the claim is about the object, not about what else a map may show
  so.classes = {"ellipse", "cross"};
  so.seed = 21;
  const Dataset train = make_synthetic(so);
  // Held-out images with one object each: the box the map must point at is unambiguous.
  so.num_images = 20;
  so.min_objects = so.max_objects = 1;
  so.occlusion_prob = 0;  // a whole shape: its class is unambiguous (an occluded cross can look like a bar)
  so.seed = 22;
  const Dataset test = make_synthetic(so);

  // Fixed-scale crops: 64 px windows of the image at its own scale around each box, so that objects look the
  // same (size, surroundings, no crop border next to them) in the crops and in the whole images.
  const Config node = Config::parse(
      "{backbone: {type: small_resnet}, feature: layer3, crop: {size: 64, scale: 1.0, background_per_image: 3, per_class: 400}, "
      "input: {min_size: 0, size_divisibility: 16}, "
      "train: {epochs: 20, optimizer: adamw, lr: 0.003, schedule: cosine, batch_size: 32, loader: {workers: 0}}}",
      "test");
  auto classifier = build_crop_classifier(node, train.class_names);
  const fs::path dir = fs::temp_directory_path() / ("detlab_test_viz_gradcam_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  EngineContext ctx;
  ctx.out_dir = dir;
  ctx.quiet = true;
  ctx.seed = 3;
  classifier->fit(train, ctx);
  fs::remove_all(dir);

  if (std::getenv("DETLAB_VIZ_DEBUG")) std::cerr << classifier->evaluate(test, 1, false).table();
  ClassifierScoreModel model(classifier->view());
  int inside = 0;
  for (size_t i = 0; i < test.images.size(); ++i) {
    const Object& obj = test.images[i].objects.at(0);
    const ModelInput in = make_input(test.load_image(i), model);
    GradCamOptions o;
    o.target = obj.label;
    o.layer = "layer2";  // stride 8: Grad-CAM through layer3 and the pooling, twice the pooled map's resolution
    const Heatmap h = grad_cam(model, in.tensor, o);
    const cv::Mat m = heatmap_to_image(h, model, in.meta);
    cv::Point at;
    double peak = 0;
    cv::minMaxLoc(m, nullptr, &peak, nullptr, &at);
    // The map's resolution is its stride: the peak is a cell, inside when that cell (its centre +- stride / 2)
    // reaches into the box.
    const float half = 0.5f * static_cast<float>(model.geometry(o.layer).stride);
    const float px = at.x + 0.5f, py = at.y + 0.5f;
    const bool ok = peak > 0 && px >= obj.box.x1 - half && px <= obj.box.x2 + half && py >= obj.box.y1 - half &&
                    py <= obj.box.y2 + half;
    INFO("image " << i << " peak " << at << " box " << obj.box.x1 << "," << obj.box.y1 << "," << obj.box.x2 << ","
                  << obj.box.y2);
    if (!ok) {
      std::cerr << "image " << i << " class " << obj.label << " score " << h.score << " peak " << at << " box "
                << obj.box.x1 << "," << obj.box.y1 << "," << obj.box.x2 << "," << obj.box.y2 << "\n";
      if (std::getenv("DETLAB_VIZ_DEBUG")) {
        FigureOptions f;
        save_heatmap(h, model, in, std::getenv("DETLAB_VIZ_DEBUG"), "img" + std::to_string(i), f, {obj.box});
      }
    }
    inside += ok;
  }
  // At least 18 of the 20 maps point at their object (measured: 19-20 over repeated runs; the training is not
  // bitwise reproducible across processes, and ellipses are sometimes found by their curved top edge, a few
  // pixels above the box). Set DETLAB_VIZ_DEBUG=<folder> to get the pictures of the misses.
  REQUIRE(inside >= 18);
}
