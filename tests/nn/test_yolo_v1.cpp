// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of YOLO v1: head shapes, responsible-predictor targets, the loss against a naive loop, decoding and NMS.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "nn/backbones/make_backbone.h"
#include "nn/catch_torch.h"
#include "nn/detection/yolo_augment.h"
#include "nn/detection/yolo_v1.h"
#include "nn/heads/yolo_head.h"
#include "nn/heads/yolo_loss.h"

using namespace detlab;

namespace {

double iou_ref(const double* a, const double* b) {
  const double iw = std::max(0.0, std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const double ih = std::max(0.0, std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const double u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih;
  return u > 0 ? iw * ih / u : 0.0;
}

/// Naive reference of equation 3 with the paper's assignment, written cell by cell in double precision.
/// Returns {coord, obj, noobj, class} summed over the batch and divided by N.
std::array<double, 4> naive_loss(const torch::Tensor& pred_in, const std::vector<YoloTarget>& targets, int64_t B,
                                 const YoloV1LossOptions& o) {
  const torch::Tensor pred = pred_in.to(torch::kDouble).contiguous();
  const int64_t N = pred.size(0), S = pred.size(1), D = pred.size(3), C = D - 5 * B;
  auto P = pred.accessor<double, 4>();
  std::array<double, 4> sum{0, 0, 0, 0};
  for (int64_t n = 0; n < N; ++n) {
    const torch::Tensor tb = targets[n].boxes.to(torch::kDouble).contiguous();
    const torch::Tensor tl = targets[n].labels.contiguous();
    const int64_t T = tb.size(0);
    std::vector<int64_t> order(T);
    for (int64_t k = 0; k < T; ++k) order[k] = k;
    auto area = [&](int64_t k) {
      auto b = tb[k];
      return (b[2].item<double>() - b[0].item<double>()) * (b[3].item<double>() - b[1].item<double>());
    };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return area(a) > area(b); });
    std::vector<std::vector<int>> taken(S * S, std::vector<int>(B, 0));
    std::vector<std::vector<double>> cls_count(S * S, std::vector<double>(C, 0.0));
    std::vector<int> objects(S * S, 0);
    for (int64_t k : order) {
      double g[4];
      for (int j = 0; j < 4; ++j) g[j] = tb[k][j].item<double>();
      const double cx = (g[0] + g[2]) / 2, cy = (g[1] + g[3]) / 2;
      const int64_t col = std::min<int64_t>(S - 1, static_cast<int64_t>(cx * S));
      const int64_t row = std::min<int64_t>(S - 1, static_cast<int64_t>(cy * S));
      const int64_t cell = row * S + col;
      if (o.one_object_per_cell && objects[cell] > 0) continue;
      int best = -1;
      double best_iou = -1;
      for (int j = 0; j < B; ++j) {
        if (taken[cell][j]) continue;
        const double px = (col + P[n][row][col][5 * j]) / S, py = (row + P[n][row][col][5 * j + 1]) / S;
        const double pw = std::pow(P[n][row][col][5 * j + 2], 2), ph = std::pow(P[n][row][col][5 * j + 3], 2);
        const double pb[4] = {px - pw / 2, py - ph / 2, px + pw / 2, py + ph / 2};
        const double v = iou_ref(pb, g);
        if (v > best_iou) best_iou = v, best = j;
      }
      if (best < 0) continue;
      taken[cell][best] = 1;
      objects[cell] += 1;
      cls_count[cell][tl[k].item<int64_t>()] += 1;
      const double tx = cx * S - col, ty = cy * S - row, tw = std::sqrt(g[2] - g[0]), th = std::sqrt(g[3] - g[1]);
      sum[0] += o.lambda_coord *
                (std::pow(P[n][row][col][5 * best] - tx, 2) + std::pow(P[n][row][col][5 * best + 1] - ty, 2) +
                 std::pow(P[n][row][col][5 * best + 2] - tw, 2) + std::pow(P[n][row][col][5 * best + 3] - th, 2));
      const double conf_t = o.rescore ? best_iou : 1.0;
      sum[1] += std::pow(P[n][row][col][5 * best + 4] - conf_t, 2);
    }
    for (int64_t r = 0; r < S; ++r)
      for (int64_t c = 0; c < S; ++c) {
        const int64_t cell = r * S + c;
        for (int j = 0; j < B; ++j)
          if (!taken[cell][j]) sum[2] += o.lambda_noobj * std::pow(P[n][r][c][5 * j + 4], 2);
        if (objects[cell] == 0) continue;
        for (int64_t k = 0; k < C; ++k)
          sum[3] += std::pow(P[n][r][c][5 * B + k] - cls_count[cell][k] / objects[cell], 2);
      }
  }
  for (double& v : sum) v /= static_cast<double>(N);
  return sum;
}

YoloTarget target(std::vector<float> boxes, std::vector<int64_t> labels) {
  const auto t = static_cast<int64_t>(labels.size());
  return {torch::tensor(boxes).view({t, 4}), torch::tensor(labels, torch::kLong)};
}

}  // namespace

TEST_CASE("yolo v1 head gives S x S x (5B + C) with conv and fully connected predictors", "[nn][yolo]") {
  torch::manual_seed(0);
  YoloV1HeadOptions o;
  o.in_channels = 8;
  o.grid_size = 5;
  o.num_boxes = 2;
  o.num_classes = 3;
  o.hidden_channels = 16;
  SECTION("conv head on a larger map (pooled to the grid)") {
    YoloV1Head head(o);
    CHECK(head->forward(torch::randn({2, 8, 10, 10})).sizes() == torch::IntArrayRef({2, 5, 5, 13}));
  }
  SECTION("fully connected head (the paper's)") {
    o.fc_hidden = 32;
    YoloV1Head head(o);
    CHECK(head->forward(torch::randn({2, 8, 5, 5})).sizes() == torch::IntArrayRef({2, 5, 5, 13}));
    CHECK(head->cell_channels() == 13);
  }
  o.num_boxes = 0;
  CHECK_THROWS(YoloV1Head(o));
}

TEST_CASE("yolo v1 targets: the cell of the centre, the best-IoU predictor, offsets and square roots", "[nn][yolo]") {
  // S = 2, B = 2, C = 3. One object centred at (0.25, 0.75): cell row 1, col 0.
  torch::Tensor pred = torch::zeros({1, 2, 2, 13});
  // Predictor 0 of that cell: a tiny box far off; predictor 1: a box that overlaps the object well.
  pred[0][1][0].slice(0, 0, 5) = torch::tensor({0.9f, 0.9f, 0.1f, 0.1f, 0.f});
  pred[0][1][0].slice(0, 5, 10) = torch::tensor({0.5f, 0.5f, std::sqrt(0.4f), std::sqrt(0.4f), 0.f});
  const std::vector<YoloTarget> t = {target({0.05f, 0.55f, 0.45f, 0.95f}, {2})};
  const YoloV1Targets y = build_yolo_v1_targets(pred, t, 2, {});
  CHECK(y.responsible[0][1][0][1].item<float>() == 1.f);
  CHECK(y.responsible.sum().item<float>() == 1.f);
  CHECK(y.object_cell.sum().item<float>() == 1.f);
  CHECK(y.object_cell[0][1][0].item<float>() == 1.f);
  const torch::Tensor box = y.box[0][1][0][1];
  CHECK(box[0].item<float>() == Approx(0.5f));  // 0.25 * 2 - 0
  CHECK(box[1].item<float>() == Approx(0.5f));  // 0.75 * 2 - 1
  CHECK(box[2].item<float>() == Approx(std::sqrt(0.4f)));
  CHECK(box[3].item<float>() == Approx(std::sqrt(0.4f)));
  // The predicted box is exactly the object: IoU 1 is the confidence target (rescore).
  CHECK(y.confidence[0][1][0][1].item<float>() == Approx(1.f).margin(1e-5));
  CHECK(y.classes[0][1][0][2].item<float>() == 1.f);
  CHECK(y.classes.sum().item<float>() == 1.f);
  YoloV1LossOptions no_rescore;
  no_rescore.rescore = false;
  pred[0][1][0][7] = 0.3f;  // the predicted box no longer matches perfectly: the target stays 1 without rescore
  CHECK(build_yolo_v1_targets(pred, t, 2, no_rescore).confidence[0][1][0][1].item<float>() == 1.f);
}

TEST_CASE("yolo v1 targets: two objects in one cell", "[nn][yolo]") {
  const torch::Tensor pred = torch::zeros({1, 2, 2, 2 * 5 + 2});
  // Both centres in cell (0, 0); the first is larger.
  const std::vector<YoloTarget> t = {target({0.0f, 0.0f, 0.4f, 0.4f, 0.1f, 0.1f, 0.3f, 0.2f}, {0, 1})};
  SECTION("the paper: one object per cell, the larger one") {
    const YoloV1Targets y = build_yolo_v1_targets(pred, t, 2, {});
    CHECK(y.dropped == 1);
    CHECK(y.responsible.sum().item<float>() == 1.f);
    CHECK(y.classes[0][0][0][0].item<float>() == 1.f);
    CHECK(y.classes[0][0][0][1].item<float>() == 0.f);
    CHECK(y.box[0][0][0][0][2].item<float>() == Approx(std::sqrt(0.4f)));  // the large one, on predictor 0 (tie)
  }
  SECTION("one object per predictor, mixed class distribution") {
    YoloV1LossOptions o;
    o.one_object_per_cell = false;
    const YoloV1Targets y = build_yolo_v1_targets(pred, t, 2, o);
    CHECK(y.dropped == 0);
    CHECK(y.responsible[0][0][0][0].item<float>() == 1.f);
    CHECK(y.responsible[0][0][0][1].item<float>() == 1.f);
    CHECK(y.classes[0][0][0][0].item<float>() == Approx(0.5f));
    CHECK(y.classes[0][0][0][1].item<float>() == Approx(0.5f));
    CHECK(y.object_cell[0][0][0].item<float>() == 1.f);
  }
}

TEST_CASE("yolo v1 loss equals the naive per-cell reference on random data", "[nn][yolo]") {
  std::mt19937 rng(7767517);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int rep = 0; rep < 6; ++rep) {
    torch::manual_seed(rep);
    const int64_t N = 3, S = 4 + rep % 3, B = 1 + rep % 3, C = 3;
    const torch::Tensor pred = torch::rand({N, S, S, 5 * B + C}) * 1.2 - 0.1;
    std::vector<YoloTarget> targets;
    for (int64_t n = 0; n < N; ++n) {
      const int T = static_cast<int>(rep + n) % 6;  // 0..5 objects, often sharing cells
      std::vector<float> b;
      std::vector<int64_t> l;
      for (int k = 0; k < T; ++k) {
        const float x1 = 0.8f * u(rng), y1 = 0.8f * u(rng);
        b.insert(b.end(), {x1, y1, x1 + 0.05f + 0.15f * u(rng), y1 + 0.05f + 0.15f * u(rng)});
        l.push_back(static_cast<int64_t>(k % C));
      }
      targets.push_back(T ? target(b, l) : YoloTarget{torch::zeros({0, 4}), torch::zeros({0}, torch::kLong)});
    }
    for (bool one : {true, false})
      for (bool rescore : {true, false}) {
        YoloV1LossOptions o;
        o.one_object_per_cell = one;
        o.rescore = rescore;
        const auto y = build_yolo_v1_targets(pred, targets, B, o);
        const auto loss = yolo_v1_loss(pred, y, B, o);
        const auto ref = naive_loss(pred, targets, B, o);
        INFO("rep " << rep << " one_object_per_cell " << one << " rescore " << rescore);
        CHECK(loss.at("loss_coord").item<double>() == Approx(ref[0]).epsilon(1e-5).margin(1e-6));
        CHECK(loss.at("loss_obj").item<double>() == Approx(ref[1]).epsilon(1e-5).margin(1e-6));
        CHECK(loss.at("loss_noobj").item<double>() == Approx(ref[2]).epsilon(1e-5).margin(1e-6));
        CHECK(loss.at("loss_class").item<double>() == Approx(ref[3]).epsilon(1e-5).margin(1e-6));
      }
  }
}

TEST_CASE("yolo v1 loss: gradients reach only what the paper's terms touch", "[nn][yolo]") {
  const torch::Tensor pred = torch::zeros({1, 2, 2, 2 * 5 + 2}).requires_grad_(true);
  const std::vector<YoloTarget> t = {target({0.6f, 0.6f, 0.9f, 0.9f}, {1})};  // cell (1, 1)
  const auto y = build_yolo_v1_targets(pred, t, 2, {});
  const auto loss = yolo_v1_loss(pred, y, 2, {});
  (loss.at("loss_coord") + loss.at("loss_obj") + loss.at("loss_noobj") + loss.at("loss_class")).backward();
  const torch::Tensor g = pred.grad()[0];
  // Empty cells: class outputs and box coordinates get no gradient.
  CHECK(g[0][0].slice(0, 10, 12).abs().sum().item<float>() == 0.f);
  CHECK(g[0][0].slice(0, 0, 4).abs().sum().item<float>() == 0.f);
  // The object's cell: coordinates of the responsible predictor (0, by the tie at IoU 0) and its classes do.
  CHECK(g[1][1].slice(0, 0, 4).abs().sum().item<float>() > 0.f);
  CHECK(g[1][1].slice(0, 10, 12).abs().sum().item<float>() > 0.f);
  CHECK(g[1][1].slice(0, 5, 9).abs().sum().item<float>() == 0.f);  // the other predictor's coordinates do not
}

TEST_CASE("yolo v1 decodes cells into pixel boxes with class-specific scores and per-class NMS", "[nn][yolo]") {
  torch::manual_seed(0);
  BackboneOptions bo;
  bo.out_features = {"layer4"};
  YoloV1Options o;
  o.num_classes = 2;
  o.head.grid_size = 2;
  o.head.num_boxes = 2;
  o.head.hidden_channels = 8;
  o.head.num_convs = 0;
  YoloV1 model(make_backbone("small_resnet", bo), o);
  // Cell (row 0, col 1) of a 100 x 200 image: box 0 centred in the cell, half the image wide and tall.
  torch::Tensor pred = torch::zeros({2, 2, 12});
  pred[0][1].slice(0, 0, 5) = torch::tensor({0.5f, 0.5f, std::sqrt(0.5f), std::sqrt(0.5f), 0.8f});
  pred[0][1].slice(0, 10, 12) = torch::tensor({0.25f, 1.5f});  // class values clamp to [0, 1]
  const YoloV1::Decoded d = model.decode(pred, 100, 200);
  REQUIRE(d.boxes.sizes() == torch::IntArrayRef({8, 4}));
  const int64_t k = (0 * 2 + 1) * 2 + 0;  // (row, col, box) -> flat index
  INFO(d.boxes[k]);
  CHECK(torch::allclose(d.boxes[k], torch::tensor({100.f, 0.f, 200.f, 50.f}), 1e-5, 1e-4));
  CHECK(d.confidence[k].item<float>() == Approx(0.8f));
  CHECK(d.class_prob[k][0].item<float>() == Approx(0.25f));
  CHECK(d.class_prob[k][1].item<float>() == 1.f);
  CHECK(d.confidence[0].item<float>() == 0.f);
}

TEST_CASE("yolo v1 detect: NMS per class, sorted scores, inside the image, fixed-size contract", "[nn][yolo]") {
  torch::manual_seed(1);
  BackboneOptions bo;
  bo.out_features = {"layer4"};
  YoloV1Options o;
  o.num_classes = 3;
  o.head.grid_size = 4;
  o.head.hidden_channels = 16;
  YoloV1 model(make_backbone("small_resnet", bo), o);
  model.eval();
  torch::NoGradGuard g;
  const torch::Tensor images = torch::randn({2, 3, 128, 128});
  const auto dets = model.detect(images, {{128, 128}, {128, 128}});
  REQUIRE(dets.size() == 2);
  for (const auto& d : dets) {
    REQUIRE(d.boxes.size(0) == d.scores.size(0));
    REQUIRE(d.boxes.size(0) <= 100);
    if (d.scores.numel() > 1) CHECK((d.scores.slice(0, 1) <= d.scores.slice(0, 0, -1)).all().item<bool>());
    CHECK((d.boxes >= 0).all().item<bool>());
    CHECK((d.boxes <= 128).all().item<bool>());
    CHECK((d.labels >= 0).all().item<bool>());
    CHECK((d.labels < 3).all().item<bool>());
    CHECK((d.scores > o.score_thresh).all().item<bool>());
  }
  // A padded image breaks the grid's geometry: refused.
  CHECK_THROWS_WITH(model.detect(images, {{128, 100}, {128, 128}}), Catch::Contains("fixed input size"));
}

TEST_CASE("yolo augmentation: scale and translation move pixels and boxes alike", "[nn][yolo][augment]") {
  torch::Tensor image = torch::zeros({3, 32, 32});
  image.slice(1, 4, 8).slice(2, 8, 12).fill_(1.f);  // a bright square at x 8..12, y 4..8
  const NetTarget t{torch::tensor({{8.f, 4.f, 12.f, 8.f}}), torch::tensor({2}, torch::kLong)};

  SECTION("identity") {
    CHECK(torch::equal(scale_translate_image(image, 1.0, 0.0, 0.0), image));
    CHECK(torch::equal(scale_translate_target(t, 1.0, 0, 0, 32, 32, 0.5).boxes, t.boxes));
  }
  SECTION("a shift by whole pixels") {
    const torch::Tensor out = scale_translate_image(image, 1.0, 5.0, 3.0);
    CHECK(torch::allclose(out.slice(1, 7, 11).slice(2, 13, 17), torch::ones({3, 4, 4}), 1e-5, 1e-5));
    CHECK(out.sum().item<float>() == Approx(3 * 16.f).margin(1e-3));
    const NetTarget moved = scale_translate_target(t, 1.0, 5, 3, 32, 32, 0.5);
    CHECK(torch::allclose(moved.boxes, torch::tensor({{13.f, 7.f, 17.f, 11.f}})));
    CHECK(moved.labels.item<int64_t>() == 2);
  }
  SECTION("a zoom about the centre") {
    const NetTarget z = scale_translate_target({torch::tensor({{12.f, 12.f, 20.f, 20.f}}), torch::tensor({0})}, 2.0,
                                               0, 0, 32, 32, 0.5);
    CHECK(torch::allclose(z.boxes, torch::tensor({{8.f, 8.f, 24.f, 24.f}})));
    torch::Tensor centre = torch::zeros({1, 32, 32});
    centre.slice(1, 12, 20).slice(2, 12, 20).fill_(1.f);
    const torch::Tensor out = scale_translate_image(centre, 2.0, 0, 0);
    CHECK(out[0][16][16].item<float>() == Approx(1.f));
    CHECK(out[0][9][9].item<float>() == Approx(1.f));  // inside the zoomed square (8..24)
    CHECK(out[0][6][6].item<float>() == Approx(0.f));
  }
  SECTION("boxes leaving the image keep their label only when enough of them stays visible") {
    const NetTarget edge{torch::tensor({{8.f, 0.f, 16.f, 8.f}}), torch::tensor({1})};
    const NetTarget half = scale_translate_target(edge, 1.0, 20, 0, 32, 32, 0.5);  // x 28..36 -> 28..32: half visible
    REQUIRE(half.boxes.size(0) == 1);
    CHECK(torch::allclose(half.boxes, torch::tensor({{28.f, 0.f, 32.f, 8.f}})));
    CHECK(scale_translate_target(edge, 1.0, 20, 0, 32, 32, 0.6).boxes.size(0) == 0);
    CHECK(scale_translate_target(edge, 1.0, 40, 0, 32, 32, 0.1).labels.numel() == 0);
  }
  SECTION("random draws: images change, boxes stay inside, padding untouched") {
    torch::manual_seed(5);
    const torch::Tensor batch = torch::randn({2, 3, 40, 48});
    const std::vector<NetTarget> targets = {t, {torch::tensor({{20.f, 10.f, 30.f, 20.f}}), torch::tensor({0})}};
    ScaleTranslateOptions o;
    const auto [out, moved] = random_scale_translate(batch, {{32, 32}, {40, 48}}, targets, o);
    CHECK_FALSE(torch::equal(out, batch));
    CHECK(torch::equal(out[0].slice(1, 32), batch[0].slice(1, 32)));  // rows below image 0 are its padding
    for (const NetTarget& m : moved) {
      CHECK((m.boxes >= 0).all().item<bool>());
      CHECK(m.boxes.size(0) == m.labels.size(0));
    }
    o.scale = o.translate = 0;
    CHECK_FALSE(o.enabled());
  }
}
