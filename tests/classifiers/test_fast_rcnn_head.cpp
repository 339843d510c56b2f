// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// fast_rcnn_head stage: scores / deltas from the predictor (unit-weight deltas decode to torchvision's boxes),
// training on host features alone, save / load, configuration errors.
#include <catch2/catch.hpp>

#include <filesystem>

#include <opencv2/core.hpp>

#include "classifiers/fake_region_source.h"
#include "core/error.h"
#include "nn/modeling/box_coder.h"
#include "pipeline/host_box_coder.h"
#include "pipeline/registries.h"
#include "pipeline/torch_stage.h"
#include "nn/catch_torch.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

BuildContext context(int classes, std::vector<int64_t> region_shape) {
  BuildContext b;
  b.registries = &builtin_registries();
  for (int c = 0; c < classes; ++c) b.class_names.push_back("class" + std::to_string(c));
  b.region_shape = std::move(region_shape);
  return b;
}

}  // namespace

TEST_CASE("fast_rcnn_head: softmax scores and class deltas that decode to torchvision's boxes", "[classifiers][fast_rcnn_head]") {
  torch::manual_seed(0);
  BuildContext b = context(3, {4, 2, 2});
  auto stage = builtin_registries().classifiers.build(Config::parse("{type: fast_rcnn_head, representation_size: 16}"), b);
  REQUIRE(stage->num_classes() == 3);
  auto* tc = dynamic_cast<TorchClassifierStage*>(stage.get());
  REQUIRE(tc != nullptr);
  {
    torch::NoGradGuard g;
    tc->box_predictor()->bbox_pred->weight.normal_(0, 1.0);  // deltas of order 1
  }
  const torch::Tensor x = torch::randn({5, 4, 2, 2});
  RegionFeatures f;
  f.device = std::make_shared<const at::Tensor>(x);
  f.device_rows = 5;
  const RegionScores s = stage->classify(f);
  REQUIRE(s.scores.rows == 5);
  REQUIRE(s.scores.cols == 4);
  REQUIRE(s.deltas.cols == 12);
  for (int i = 0; i < 5; ++i) CHECK(cv::sum(s.scores.row(i))[0] == Approx(1.0).epsilon(1e-5));
  torch::NoGradGuard no_grad;
  auto [logits, deltas] = tc->box_predictor()->forward(tc->box_head()->forward(x));
  const torch::Tensor probs = torch::softmax(logits, 1);
  CHECK(s.scores.at<float>(2, 3) == Approx(probs[2][3].item<float>()));
  // Decoding class c's unit-weight deltas (what the staged post-processing does) gives the boxes torchvision's
  // BoxCoder(10, 10, 5, 5) decodes from the predictor's raw deltas.
  const Box proposal{20.f, 30.f, 80.f, 70.f};
  const torch::Tensor tv = BoxCoder(kRoiHeadBoxWeights).decode_single(deltas.slice(0, 1, 2),
                                                                               torch::tensor({{20.f, 30.f, 80.f, 70.f}}));
  const HostBoxCoder unit;
  for (int c = 0; c < 3; ++c) {
    const Box d = unit.decode(proposal, s.deltas.ptr<float>(1) + 4 * c);
    CHECK(d.x1 == Approx(tv[0][4 * (c + 1)].item<float>()).margin(1e-3));
    CHECK(d.y2 == Approx(tv[0][4 * (c + 1) + 3].item<float>()).margin(1e-3));
  }
}

TEST_CASE("fast_rcnn_head trains alone on host features and round-trips through save / load",
          "[classifiers][fast_rcnn_head]") {
  torch::manual_seed(1);
  test::FakeRegionSource src(12, 2);
  BuildContext b = context(2, {});
  auto stage = builtin_registries().classifiers.build(
      Config::parse("{type: fast_rcnn_head, in_features: " + std::to_string(src.dim()) +
                    ", representation_size: 32, fit: {epochs: 60, lr: 0.05}}"),
      b);
  ClassifierTrainContext tc;
  tc.source = &src;
  tc.seed = 3;
  stage->fit(tc);
  // The fake features carry each box's IoU with each class's object: the head must find the objects.
  int right = 0, total = 0;
  for (int i = 0; i < src.num_images(); ++i) {
    const Proposals p = src.proposals_of(i);
    const RegionFeatures f = src.describe(i, p, nullptr);
    const RegionScores s = stage->classify(f);
    for (size_t k = 0; k < p.size(); ++k) {
      // Columns 0 and 1 of the fake features: the box's IoU with the object of class 0 / 1.
      const float* row = f.host.ptr<float>(static_cast<int>(k));
      const int cls = row[1] > row[0] ? 1 : 0;
      const float best = row[cls];
      if (best > 0.2f && best < 0.6f) continue;  // ambiguous
      const int truth = best >= 0.6f ? cls + 1 : 0;
      int arg = 0;
      for (int c = 1; c < 3; ++c)
        if (s.scores.at<float>(static_cast<int>(k), c) > s.scores.at<float>(static_cast<int>(k), arg)) arg = c;
      right += arg == truth;
      ++total;
    }
  }
  INFO(right << " of " << total << " regions classified right");
  CHECK(right >= 0.9 * total);

  const fs::path dir = fs::path(DETLAB_BUILD_DIR) / "test_tmp" / "fast_rcnn_head_save";
  fs::remove_all(dir);
  fs::create_directories(dir);
  stage->save(dir);
  auto other = builtin_registries().classifiers.build(
      Config::parse("{type: fast_rcnn_head, in_features: " + std::to_string(src.dim()) + ", representation_size: 32}"), b);
  other->load(dir);
  const RegionFeatures f = src.describe(0, src.proposals_of(0), nullptr);
  CHECK(cv::norm(stage->classify(f).scores, other->classify(f).scores) == 0.0);
  // A head of another size does not load, with the file named.
  auto wrong = builtin_registries().classifiers.build(
      Config::parse("{type: fast_rcnn_head, in_features: " + std::to_string(src.dim()) + ", representation_size: 8}"), b);
  CHECK_THROWS_WITH(wrong->load(dir), Catch::Contains("fast_rcnn_head.pt"));
}

TEST_CASE("fast_rcnn_head needs a region size and valid sampling options", "[classifiers][fast_rcnn_head]") {
  BuildContext b = context(2, {});
  const auto& r = builtin_registries().classifiers;
  CHECK_THROWS_WITH(r.build(Config::parse("{type: fast_rcnn_head}"), b), Catch::Contains("in_features"));
  b.region_shape = {8, 7, 7};
  CHECK_THROWS_WITH(r.build(Config::parse("{type: fast_rcnn_head, sampling: {bg_iou_lo: 0.6}}"), b),
                    Catch::Contains("fg_iou"));
  CHECK_THROWS_WITH(r.build(Config::parse("{type: fast_rcnn_head, sampling: {batch_size_per_image: 0}}"), b),
                    Catch::Contains("batch_size_per_image"));
  CHECK_THROWS_WITH(r.build(Config::parse("{type: fast_rcnn_head, fit: {epochs: 0}}"), b), Catch::Contains("epochs"));
}
