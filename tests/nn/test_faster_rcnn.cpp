// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// FasterRCNN (ResNet-50-FPN) against torchvision's fasterrcnn_resnet50_fpn: keys, RPN head, proposals, box head,
// detections; legacy key names; label mapping.
#include <catch2/catch.hpp>

#include <ATen/Parallel.h>

#include <limits>
#include <memory>

#include "nn/backbones/make_backbone.h"
#include "nn/detection/faster_rcnn.h"
#include "parity.h"
#include "tv_fixture.h"
#include "catch_torch.h"

using namespace detlab;

namespace {

std::shared_ptr<FasterRCNN> resnet50_fpn_model(int64_t num_classes = 91) {
  BackboneOptions b;
  b.norm = NormKind::kFrozenBatchNorm;
  b.trainable_layers = 3;
  b.fpn = FpnOptions{};
  return std::make_shared<FasterRCNN>(make_backbone("resnet50", b), fasterrcnn_resnet50_fpn_options(num_classes));
}

/// The fixture, our model loaded with its weights, and our outputs on its batch (computed once per process).
struct Run {
  std::filesystem::path dir;
  std::map<std::string, torch::Tensor> in, out;
  std::shared_ptr<FasterRCNN> model;
  std::vector<ImageSize> sizes;
  RpnOutput proposals;
  std::vector<NetDetections> dets;
  torch::Tensor logits, deltas;  // box predictor on torchvision's proposals
};

const Run* run() {
  static std::unique_ptr<Run> r = [] {
    auto r = std::make_unique<Run>();
    r->dir = test::tv_fixture("fasterrcnn_resnet50_fpn");
    if (r->dir.empty()) return std::unique_ptr<Run>();
    r->in = test::load_tensors(r->dir / "inputs.pt");
    r->out = test::load_tensors(r->dir / "outputs.pt");
    r->model = resnet50_fpn_model();
    const auto report = load_state_dict(*r->model, test::load_tensors(r->dir / "state_dict.pt"));
    REQUIRE(report.ok());
    r->model->eval();
    const torch::Tensor s = r->in.at("image_sizes");
    for (int64_t i = 0; i < s.size(0); ++i) r->sizes.push_back({s[i][0].item<int64_t>(), s[i][1].item<int64_t>()});
    torch::NoGradGuard no_grad;
    const torch::Tensor images = r->in.at("images");
    const auto maps = r->model->features(images);
    r->proposals = r->model->propose(images, maps, r->sizes);
    r->dets = r->model->detect(images, r->sizes);
    const std::vector<torch::Tensor> tv_props = {r->out.at("proposals_0"), r->out.at("proposals_1")};
    std::tie(r->logits, r->deltas) = r->model->roi_heads->predict(maps, images, tv_props, r->sizes);
    return r;
  }();
  if (!r) testing::report_skipped("torchvision fixture fasterrcnn_resnet50_fpn (DETLAB_SKIP_TV_PARITY=1)");
  return r.get();
}

/// Boxes (K x 4) and scores (K) equal torchvision's within tolerances, as lists. Float sums that differ in the
/// last bits between thread counts can swap two proposals whose scores tie to ~1e-6, so a row that differs is
/// matched against the rows whose scores are within score_tol of it; returns the rows left unmatched (0 when
/// the outputs agree up to such swaps) and the largest box / score difference over the matched pairs.
/// Box tolerance: the backbone's maps differ from torchvision's by ~1e-4 relative (folded norms, channels-last; the
/// summation order depends on the CPU's kernels), which moves boxes of ~1,000 px by up to ~1e-3 px (1.1e-3 on an
/// AMD EPYC without AVX-512, about 18 float ulps at that size); 2e-3 px keeps a margin over that.
struct Agreement {
  int64_t unmatched = 0, swapped = 0;
  double box_diff = 0, score_diff = 0;
  /// For the first unmatched row: its score, and the box and score differences to the nearest torchvision row
  /// (by box), so that a failure says whether it is a tolerance or a real disagreement.
  double unmatched_score = 0, nearest_box = 0, nearest_score = 0;
};
Agreement compare_lists(const torch::Tensor& boxes, const torch::Tensor& scores, const torch::Tensor& tv_boxes,
                        const torch::Tensor& tv_scores, double box_tol = 2e-3, double score_tol = 1e-4) {
  Agreement a;
  const int64_t n = boxes.size(0);
  std::vector<bool> used(static_cast<size_t>(n), false);
  auto box_d = [&](int64_t i, int64_t j) { return (boxes[i] - tv_boxes[j]).abs().max().item<double>(); };
  auto score_d = [&](int64_t i, int64_t j) { return std::abs(scores[i].item<double>() - tv_scores[j].item<double>()); };
  for (int64_t i = 0; i < n; ++i) {
    int64_t match = -1;
    if (box_d(i, i) <= box_tol && score_d(i, i) <= score_tol && !used[i]) {
      match = i;
    } else {
      for (int64_t j = 0; j < n && match < 0; ++j)
        if (!used[j] && score_d(i, j) <= score_tol && box_d(i, j) <= box_tol) match = j;
      if (match >= 0) ++a.swapped;
    }
    if (match < 0) {
      if (a.unmatched++ == 0) {
        a.unmatched_score = scores[i].item<double>();
        a.nearest_box = std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < n; ++j)
          if (box_d(i, j) < a.nearest_box) a.nearest_box = box_d(i, j), a.nearest_score = score_d(i, j);
      }
      continue;
    }
    used[match] = true;
    a.box_diff = std::max(a.box_diff, box_d(i, match));
    a.score_diff = std::max(a.score_diff, score_d(i, match));
  }
  return a;
}

}  // namespace

TEST_CASE("Faster R-CNN ResNet-50-FPN has torchvision's state_dict keys and loads it strictly", "[nn][faster_rcnn]") {
  const Run* r = run();
  if (!r) return;
  test::require_same_keys(*resnet50_fpn_model(), test::load_tensors(r->dir / "state_dict.pt"));
}

TEST_CASE("Faster R-CNN RPN head outputs and proposals equal torchvision's", "[nn][faster_rcnn][rpn]") {
  const Run* r = run();
  if (!r) return;
  torch::NoGradGuard no_grad;
  const auto maps = r->model->features(r->in.at("images"));
  std::vector<torch::Tensor> levels;
  for (const std::string& f : r->model->rpn_features()) levels.push_back(maps.at(f));
  auto [logits, deltas] = r->model->rpn->head->forward(levels);
  REQUIRE(logits.size() == 5);
  for (size_t l = 0; l < logits.size(); ++l) {
    test::require_parity("rpn_objectness_" + std::to_string(l), logits[l], r->out.at("rpn_objectness_" + std::to_string(l)));
    test::require_parity("rpn_deltas_" + std::to_string(l), deltas[l], r->out.at("rpn_deltas_" + std::to_string(l)));
  }
  for (int i = 0; i < 2; ++i) {
    const torch::Tensor& tv = r->out.at("proposals_" + std::to_string(i));
    const torch::Tensor& tv_scores = r->out.at("proposal_scores_" + std::to_string(i));
    INFO("image " << i << ": " << r->proposals.boxes[i].size(0) << " proposals, torchvision " << tv.size(0));
    REQUIRE(r->proposals.boxes[i].sizes() == tv.sizes());
    const Agreement a = compare_lists(r->proposals.boxes[i], r->proposals.scores[i], tv, tv_scores);
    INFO("max proposal box difference " << a.box_diff << " px, score difference " << a.score_diff << ", "
                                        << a.swapped << " tied rows in swapped order, " << a.unmatched << " unmatched"
             << " (first: score " << a.unmatched_score << ", nearest torchvision row " << a.nearest_box << " px, score "
             << a.nearest_score << " away)");
    CHECK(a.unmatched == 0);
    CHECK(a.box_diff <= 2e-3);
    CHECK(a.score_diff <= 1e-4);
  }
}

TEST_CASE("Faster R-CNN box head and detections equal torchvision's", "[nn][faster_rcnn]") {
  const Run* r = run();
  if (!r) return;
  test::require_parity("class_logits", r->logits, r->out.at("class_logits"));
  test::require_parity("box_regression", r->deltas, r->out.at("box_regression"));
  for (int i = 0; i < 2; ++i) {
    const std::string k = std::to_string(i);
    const NetDetections& d = r->dets[i];
    INFO("image " << i << ": " << d.boxes.size(0) << " detections, torchvision " << r->out.at("boxes_" + k).size(0));
    REQUIRE(d.boxes.sizes() == r->out.at("boxes_" + k).sizes());
    REQUIRE(d.boxes.size(0) >= 20);  // the fixture's heads are spread so that there is something to compare
    const Agreement a = compare_lists(d.boxes, d.scores, r->out.at("boxes_" + k), r->out.at("scores_" + k));
    INFO("max detection box difference " << a.box_diff << " px, score difference " << a.score_diff << ", "
                                         << a.swapped << " tied rows in swapped order, " << a.unmatched << " unmatched"
             << " (first: score " << a.unmatched_score << ", nearest torchvision row " << a.nearest_box << " px, score "
             << a.nearest_score << " away)");
    CHECK(a.unmatched == 0);
    CHECK(a.box_diff <= 2e-3);
    CHECK(a.score_diff <= 1e-4);
    // Labels at the DetectionModel boundary are 0-based: torchvision's column - 1 (no label map given).
    if (a.swapped == 0) CHECK(torch::equal(d.labels + 1, r->out.at("labels_" + k)));
  }
}

TEST_CASE("Faster R-CNN loads pre-0.13 torchvision key names through the legacy renames", "[nn][faster_rcnn]") {
  const Run* r = run();
  if (!r) return;
  StateDict legacy;
  for (const auto& [key, t] : test::load_tensors(r->dir / "state_dict.pt")) {
    std::string k = key;
    for (const auto& [old_name, new_name] : faster_rcnn_legacy_renames())
      if (k == new_name) k = old_name;
    legacy[k] = t;
  }
  REQUIRE(legacy.count("rpn.head.conv.weight"));
  REQUIRE(legacy.count("backbone.fpn.inner_blocks.0.weight"));
  auto model = resnet50_fpn_model();
  CHECK_THROWS_AS(load_state_dict(*model, legacy), WeightLoadError);
  LoadOptions o;
  o.rename = faster_rcnn_legacy_renames();
  CHECK(load_state_dict(*model, legacy, o).ok());
  CHECK(torch::equal(module_state_dict(*model).at("rpn.head.conv.0.0.weight"),
                     module_state_dict(*r->model).at("rpn.head.conv.0.0.weight")));
}

TEST_CASE("Faster R-CNN maps its labels onto predictor columns (COCO's 91, with gaps)", "[nn][faster_rcnn]") {
  const auto& coco = coco_category_names();
  REQUIRE(coco.size() == 91);
  CHECK(coco[1] == "person");
  CHECK(coco[12] == "N/A");
  CHECK(coco[90] == "toothbrush");
  // Two labels mapped to columns 3 and 1: detections come back as 0 (column 3) and 1 (column 1), others vanish.
  BackboneOptions b;
  b.fpn = FpnOptions{};
  b.fpn->out_channels = 16;
  FasterRcnnOptions o;
  o.num_classes = 4;
  o.label_map = {3, 1};
  o.representation_size = 32;
  o.roi_heads.score_thresh = 0.0;
  o.rpn.post_nms_top_n_test = 50;
  torch::manual_seed(0);
  FasterRCNN model(make_backbone("small_resnet", b), o);
  REQUIRE(model.num_classes() == 2);
  model.eval();
  torch::NoGradGuard no_grad;
  const auto dets = model.detect(torch::randn({1, 3, 64, 96}), {{64, 96}});
  REQUIRE(dets[0].labels.numel() > 0);
  CHECK(((dets[0].labels == 0) | (dets[0].labels == 1)).all().item<bool>());
  // Training targets go the other way: label 0 -> column 3. A wrong map would index out of the predictor.
  model.train();
  torch::AutoGradMode grad(true);
  const auto losses = model.losses(torch::randn({1, 3, 64, 96}), {{64, 96}},
                                   {{torch::tensor({{8.f, 8.f, 40.f, 40.f}}), torch::tensor({int64_t{0}})}});
  CHECK(losses.size() == 4);
  for (const auto& [name, v] : losses) {
    INFO(name);
    CHECK(std::isfinite(v.item<double>()));
  }
  CHECK_THROWS(model.losses(torch::randn({1, 3, 64, 96}), {{64, 96}},
                            {{torch::tensor({{8.f, 8.f, 40.f, 40.f}}), torch::tensor({int64_t{2}})}}));
}
