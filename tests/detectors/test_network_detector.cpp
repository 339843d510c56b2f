// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of NetworkDetector with a toy DetectionModel: box mapping, save / load, training through the engine.
#include <catch2/catch.hpp>

#include <torch/nn/module.h>
#include <torch/types.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/synthetic.h"
#include "detectors/network_detector.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

// One learnable box per image, in fractions of the image size; loss = L1 to the first target box.
class ToyBoxModel : public DetectionModel {
 public:
  explicit ToyBoxModel(int64_t classes) : classes_(classes) {
    box_ = register_parameter("box", torch::tensor({0.25f, 0.25f, 0.5f, 0.5f}));
  }
  std::vector<NetDetections> detect(const torch::Tensor& images, const std::vector<ImageSize>& sizes,
                                    NetTimes* times) override {
    std::vector<NetDetections> out;
    for (const ImageSize& s : sizes) {
      const torch::Tensor scale = torch::tensor({float(s[1]), float(s[0]), float(s[1]), float(s[0])});
      out.push_back({(box_ * scale).unsqueeze(0), torch::ones({1}), torch::full({1}, classes_ - 1, torch::kLong)});
    }
    if (times) times->emplace_back("toy", 0.0);
    return out;
  }
  std::map<std::string, torch::Tensor> losses(const torch::Tensor& images, const std::vector<ImageSize>& sizes,
                                              const std::vector<NetTarget>& targets) override {
    torch::Tensor total = torch::zeros({});
    for (size_t i = 0; i < targets.size(); ++i) {
      const torch::Tensor scale =
          torch::tensor({float(sizes[i][1]), float(sizes[i][0]), float(sizes[i][1]), float(sizes[i][0])});
      total = total + (box_ - targets[i].boxes[0] / scale).abs().sum();
    }
    return {{"loss_box", total / static_cast<double>(targets.size())}};
  }
  int64_t num_classes() const override { return classes_; }
  torch::Tensor box_;

 private:
  int64_t classes_;
};

NetworkDetectorOptions toy_options(std::vector<std::string> classes) {
  NetworkDetectorOptions o;
  o.type = "toy";
  o.class_names = std::move(classes);
  o.transform.min_size = 240;  // 640 x 480 -> 320 x 240: scale 0.5
  o.transform.max_size = 1000;
  return o;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::path(DETLAB_BUILD_DIR) / "test_tmp" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("network detector maps network boxes back to original pixels", "[detectors][network_detector]") {
  auto model = std::make_shared<ToyBoxModel>(2);
  NetworkDetector det(model, toy_options({"a", "b"}));
  Image img{"x", cv::Mat(480, 640, CV_8UC3, cv::Scalar(10, 20, 30))};
  StageTimes times;
  const Detections d = det.detect(img, &times);
  REQUIRE(d.size() == 1);
  // The toy box is a fraction of the network image, so it maps to the same fraction of the original.
  CHECK(d[0].box.x1 == Approx(160.f));
  CHECK(d[0].box.y1 == Approx(120.f));
  CHECK(d[0].box.x2 == Approx(320.f));
  CHECK(d[0].box.y2 == Approx(240.f));
  CHECK(d[0].label == 1);
  REQUIRE(times.size() == 3);
  CHECK(times[0].first == "preprocess");
  CHECK(times[1].first == "toy");
  CHECK(times[2].first == "post");
}

TEST_CASE("network detector saves and loads its weights in a versioned folder", "[detectors][network_detector]") {
  const fs::path dir = fresh_dir("network_detector_save");
  auto model = std::make_shared<ToyBoxModel>(2);
  {
    torch::NoGradGuard g;
    model->box_.copy_(torch::tensor({0.1f, 0.2f, 0.3f, 0.4f}));
  }
  NetworkDetector(model, toy_options({"a", "b"})).save(dir);
  CHECK(fs::exists(dir / "detector.json"));
  CHECK(fs::exists(dir / "model.pt"));

  auto other = std::make_shared<ToyBoxModel>(2);
  NetworkDetector loaded(other, toy_options({"a", "b"}));
  loaded.load(dir);
  CHECK(torch::equal(other->box_, model->box_));

  // A folder trained on other classes, or a corrupt weight file, is refused with the file named.
  auto third = std::make_shared<ToyBoxModel>(2);
  NetworkDetector mismatched(third, toy_options({"a", "c"}));
  CHECK_THROWS_AS(mismatched.load(dir), InputError);
  std::ofstream(dir / "model.pt") << "not a zip";
  try {
    loaded.load(dir);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("model.pt") != std::string::npos);
  }
}

TEST_CASE("network detector trains through the engine", "[detectors][network_detector]") {
  SyntheticOptions so;
  so.num_images = 12;
  so.width = so.height = 96;
  so.min_size = 24;
  so.max_size = 40;
  so.max_objects = 1;
  const Dataset data = make_synthetic(so);

  auto model = std::make_shared<ToyBoxModel>(data.num_classes());
  NetworkDetectorOptions o = toy_options(data.class_names);
  o.transform.min_size = 96;
  o.train.iterations = 40;
  o.train.optimizer.lr = 0.05;
  o.train.loader.batch_size = 4;
  o.train.log_every = 10;
  NetworkDetector det(model, o);

  TrainContext ctx;
  ctx.train = &data;
  ctx.out_dir = fresh_dir("network_detector_fit");
  const torch::Tensor before = model->box_.clone();
  det.fit(ctx);
  CHECK_FALSE(torch::equal(before, model->box_));
  CHECK(fs::exists(ctx.out_dir / "train_log.csv"));
}
