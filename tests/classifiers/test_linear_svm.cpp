// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// linear_svm: training with mining on a fake region source, scores, groups, regression, persistence.
#include <catch2/catch.hpp>

#include <filesystem>

#include <opencv2/core.hpp>

#include "classifiers/fake_region_source.h"
#include "classifiers/linear_svm.h"
#include "core/error.h"
#include "pipeline/model_dir.h"
#include "pipeline/training.h"

using namespace detlab;
namespace fs = std::filesystem;

namespace {

LinearSvmOptions options(int k) {
  LinearSvmOptions o;
  o.num_classes = k;
  o.C = 1.f;
  o.mining.rounds = 2;
  o.mining.initial_negatives_per_image = 5;
  o.mining.hard_negatives_per_image = 5;
  return o;
}

ClassifierTrainContext context(RegionSource& src, const fs::path& out = {}) {
  ClassifierTrainContext c;
  c.source = &src;
  c.out_dir = out;
  return c;
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("detlab_test_linear_svm_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("linear_svm learns one-vs-rest classes with hard-negative mining", "[classifiers][linear_svm]") {
  test::FakeRegionSource src(12, 3);
  auto svm = make_linear_svm(options(3));
  REQUIRE_THROWS_AS(svm->classify(src.describe(0, src.proposals_of(0), nullptr)), std::invalid_argument);
  const fs::path out = temp_dir("fit");
  svm->fit(context(src, out));
  REQUIRE(src.passes == 3);  // positives + random negatives, then two mining rounds
  REQUIRE(fs::exists(out / "train_log.csv"));
  REQUIRE(svm->num_parameters() == 3 * (src.dim() + 1));

  // Ground-truth boxes score above 0.5 for their class only; background boxes below 0.5 for all.
  for (int i = 0; i < src.num_images(); ++i) {
    Proposals boxes;
    const ImageRecord rec = [&] {
      ImageRecord r;
      src.for_each({i}, "", [&](TrainingImage& t) { r = t.record(); });
      return r;
    }();
    for (const Object& o : rec.objects) boxes.push_back({o.box, 1.f});
    boxes.push_back({{90, 90, 99, 99}, 0.f});  // overlaps nothing
    const RegionScores s = svm->classify(src.describe(i, boxes, nullptr));
    REQUIRE(s.scores.rows == static_cast<int>(boxes.size()));
    REQUIRE(s.scores.cols == 4);
    REQUIRE(s.deltas.empty());
    for (size_t b = 0; b < rec.objects.size(); ++b)
      for (int c = 0; c < 3; ++c) {
        INFO("image " << i << " object " << b << " class " << c);
        if (c == rec.objects[b].label)
          REQUIRE(s.scores.at<float>(int(b), c + 1) > 0.5f);
      }
    for (int c = 0; c < 3; ++c) REQUIRE(s.scores.at<float>(int(boxes.size()) - 1, c + 1) < 0.5f);
    // Background column = 1 - best class score.
    for (int r = 0; r < s.scores.rows; ++r) {
      float best = 0;
      for (int c = 1; c <= 3; ++c) best = std::max(best, s.scores.at<float>(r, c));
      REQUIRE(s.scores.at<float>(r, 0) == Approx(1.f - best));
    }
  }
}

TEST_CASE("linear_svm scores a class only on its feature group", "[classifiers][linear_svm]") {
  test::FakeRegionSource src(10, 2, /*two_groups=*/true);
  auto svm = make_linear_svm(options(2));
  svm->fit(context(src));
  const Proposals boxes = src.proposals_of(0);
  const RegionFeatures f = src.describe(0, boxes, nullptr);
  const RegionScores s = svm->classify(f);
  int checked = 0;
  for (int r = 0; r < f.rows(); ++r) {
    const int other = f.group(r) == 0 ? 2 : 1;  // column of the class of the other group
    REQUIRE(s.scores.at<float>(r, other) == 0.f);
    ++checked;
  }
  REQUIRE(checked > 50);
}

TEST_CASE("linear_svm box regression recovers the deltas the features carry", "[classifiers][linear_svm]") {
  test::FakeRegionSource src(12, 2);
  LinearSvmOptions o = options(2);
  o.box_regression.enabled = true;
  o.box_regression.lambda = 1e-3f;  // the fake features carry the exact targets: almost no shrinkage
  auto svm = make_linear_svm(o);
  svm->fit(context(src));
  const Proposals boxes = src.proposals_of(1);
  const RegionFeatures f = src.describe(1, boxes, nullptr);
  const RegionScores s = svm->classify(f);
  REQUIRE(s.deltas.cols == 8);
  int checked = 0;
  for (int r = 0; r < f.rows(); ++r)
    for (int c = 0; c < 2; ++c) {
      if (f.host.at<float>(r, c) < 0.6f) continue;  // regressors are fitted on IoU >= 0.6 only
      for (int q = 0; q < 4; ++q)
        REQUIRE(s.deltas.at<float>(r, 4 * c + q) == Approx(f.host.at<float>(r, 4 + q)).margin(0.05));
      ++checked;
    }
  REQUIRE(checked > 0);
}

TEST_CASE("linear_svm save / load reproduces the scores, bad files are refused", "[classifiers][linear_svm]") {
  test::FakeRegionSource src(8, 2);
  LinearSvmOptions o = options(2);
  o.box_regression.enabled = true;
  auto svm = make_linear_svm(o);
  svm->fit(context(src));
  const fs::path dir = temp_dir("save");
  svm->save(dir);
  auto restored = make_linear_svm(o);
  restored->load(dir);
  const RegionFeatures f = src.describe(3, src.proposals_of(3), nullptr);
  const RegionScores a = svm->classify(f), b = restored->classify(f);
  REQUIRE(cv::norm(a.scores, b.scores, cv::NORM_INF) == 0.0);
  REQUIRE(cv::norm(a.deltas, b.deltas, cv::NORM_INF) == 0.0);

  auto three = make_linear_svm(options(3));
  REQUIRE_THROWS_WITH(three->load(dir), Catch::Contains("linear_svm.json") && Catch::Contains("classes"));
  auto j = read_versioned_json(dir / "linear_svm.json", "linear_svm", 1);
  write_versioned_json(dir / "linear_svm.json", "linear_svm", 2, j);
  REQUIRE_THROWS_AS(restored->load(dir), InputError);
  fs::remove(dir / "linear_svm.json");
  REQUIRE_THROWS_WITH(restored->load(dir), Catch::Contains("not found"));
}

TEST_CASE("linear_svm config", "[classifiers][linear_svm]") {
  const auto o = parse_linear_svm(
      Config::parse("{C: 0.5, mining: {rounds: 3, negative_iou: 0.2}, box_regression: {lambda: 10}}"), 4);
  REQUIRE(o.num_classes == 4);
  REQUIRE(o.C == 0.5f);
  REQUIRE(o.mining.rounds == 3);
  REQUIRE(o.mining.negative_iou == 0.2f);
  REQUIRE(o.box_regression.enabled);
  REQUIRE(o.box_regression.lambda == 10.f);
  REQUIRE_THROWS_AS(parse_linear_svm(Config::parse("{C: 0}"), 2), InputError);
  REQUIRE_THROWS_AS(parse_linear_svm(Config::parse("{mining: {rounds: -1}}"), 2), InputError);
  REQUIRE_THROWS_AS(parse_linear_svm(Config::parse("{}"), 0), InputError);
}
