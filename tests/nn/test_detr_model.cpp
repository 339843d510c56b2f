// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of the Detr model: DETR-R50's parameter count and names, shapes, inference contract, losses, lr groups.
#include <set>

#include "nn/backbones/make_backbone.h"
#include "nn/catch_torch.h"
#include "nn/detr/detr.h"

using namespace detlab;

namespace {

DetrOptions tiny_options(int64_t classes) {
  DetrOptions o;
  o.num_classes = classes;
  o.num_queries = 7;
  o.transformer.d_model = 32;
  o.transformer.nhead = 4;
  o.transformer.num_encoder_layers = 1;
  o.transformer.num_decoder_layers = 2;
  o.transformer.dim_feedforward = 64;
  return o;
}

std::shared_ptr<Backbone> small_backbone() {
  BackboneOptions bo;
  bo.out_features = {"layer4"};
  return make_backbone("small_resnet", bo);
}

}  // namespace

TEST_CASE("detr with a ResNet-50 has DETR-R50's 41,302,368 trainable parameters", "[nn][detr][model]") {
  // DETR's main.py prints "number of params: 41302368" for the COCO model: 91 classes, 100 queries, frozen
  // BatchNorm, conv1 and layer1 frozen (lr_backbone > 0 trains layer2..layer4).
  BackboneOptions bo;
  bo.norm = NormKind::kFrozenBatchNorm;
  bo.trainable_layers = 3;
  bo.out_features = {"layer4"};
  DetrOptions o;
  o.num_classes = 91;
  Detr model(make_backbone("resnet50", bo), o);
  CHECK(count_parameters(model, /*trainable_only=*/true) == 41302368);
  std::set<std::string> keys;
  for (const auto& kv : model.named_parameters()) keys.insert(kv.key());
  for (const char* k : {"transformer.encoder.layers.0.self_attn.in_proj_weight", "transformer.decoder.norm.weight",
                        "class_embed.weight", "bbox_embed.layers.2.bias", "query_embed.weight", "input_proj.weight",
                        "backbone.layer4.2.conv3.weight"}) {
    INFO(k);
    CHECK(keys.count(k) == 1);
  }
  CHECK(model.named_parameters()["class_embed.weight"].size(0) == 92);
  CHECK(model.lr_multiplier("backbone.layer2.0.conv1.weight") == 0.1);
  CHECK(model.lr_multiplier("transformer.decoder.norm.weight") == 1.0);
}

TEST_CASE("detr forward gives every decoder layer's logits and normalized boxes", "[nn][detr][model]") {
  torch::manual_seed(0);
  Detr model(small_backbone(), tiny_options(3));
  model.eval();
  torch::NoGradGuard g;
  const DetrOutputs out = model.forward(torch::randn({2, 3, 96, 128}), {{96, 128}, {64, 64}});
  CHECK(out.logits.sizes() == torch::IntArrayRef({2, 2, 7, 4}));
  CHECK(out.boxes.sizes() == torch::IntArrayRef({2, 2, 7, 4}));
  CHECK((out.boxes >= 0).all().item<bool>());
  CHECK((out.boxes <= 1).all().item<bool>());
}

TEST_CASE("detr detect: one detection per query, sorted, inside each image, no-object excluded", "[nn][detr][model]") {
  torch::manual_seed(1);
  Detr model(small_backbone(), tiny_options(3));
  model.eval();
  torch::NoGradGuard g;
  NetTimes times;
  const auto dets = model.detect(torch::randn({2, 3, 96, 128}), {{96, 128}, {64, 80}}, &times);
  REQUIRE(dets.size() == 2);
  const std::vector<std::array<int64_t, 2>> sizes = {{96, 128}, {64, 80}};
  for (size_t i = 0; i < 2; ++i) {
    const NetDetections& d = dets[i];
    REQUIRE(d.boxes.sizes() == torch::IntArrayRef({7, 4}));
    CHECK((d.scores.slice(0, 1) <= d.scores.slice(0, 0, -1)).all().item<bool>());
    CHECK((d.labels >= 0).all().item<bool>());
    CHECK((d.labels < 3).all().item<bool>());
    CHECK((d.boxes.select(1, 2) <= sizes[i][1]).all().item<bool>());
    CHECK((d.boxes.select(1, 3) <= sizes[i][0]).all().item<bool>());
    CHECK((d.boxes >= 0).all().item<bool>());
  }
  // The scores are the largest class probability other than "no object", sorted.
  const torch::Tensor x = torch::randn({1, 3, 64, 64});
  const torch::Tensor prob = model.forward(x, {{64, 64}}).logits[-1][0].softmax(-1);
  const torch::Tensor best = std::get<0>(prob.slice(1, 0, 3).max(-1));
  const auto one = model.detect(x, {{64, 64}});
  CHECK(torch::allclose(one[0].scores, std::get<0>(best.sort(0, /*descending=*/true))));
  REQUIRE(times.size() == 4);
  CHECK(times[0].first == "backbone");
  CHECK(times[1].first == "transformer");
}

TEST_CASE("detr losses: DETR's keys, finite, gradients reach every parameter", "[nn][detr][model]") {
  torch::manual_seed(2);
  Detr model(small_backbone(), tiny_options(2));
  model.train();
  std::vector<NetTarget> targets = {
      {torch::tensor({{10.f, 20.f, 50.f, 60.f}, {60.f, 10.f, 120.f, 40.f}}), torch::tensor({0, 1}, torch::kLong)},
      {torch::tensor({{5.f, 5.f, 30.f, 30.f}}), torch::tensor({1}, torch::kLong)}};
  const auto losses = model.losses(torch::randn({2, 3, 64, 128}), {{64, 128}, {64, 96}}, targets);
  CHECK(losses.size() == 6);  // 2 decoder layers x (ce, bbox, giou)
  CHECK(losses.count("loss_ce_0") == 1);
  torch::Tensor total = torch::zeros({});
  for (const auto& kv : losses) total = total + kv.second;
  REQUIRE(std::isfinite(total.item<double>()));
  total.backward();
  for (const auto& kv : model.named_parameters()) {
    INFO(kv.key());
    REQUIRE(kv.value().grad().defined());
  }
  // DETR's target format: cx cy w h over the image's own (unpadded) size.
  const auto set = Detr::to_set_targets(targets, {{64, 128}, {64, 96}});
  CHECK(torch::allclose(set[0].boxes[0], torch::tensor({30.f / 128, 40.f / 64, 40.f / 128, 40.f / 64})));
  CHECK(torch::allclose(set[1].boxes[0], torch::tensor({17.5f / 96, 17.5f / 64, 25.f / 96, 25.f / 64})));
}

TEST_CASE("detr with anchor boxes and focal classes: K logits, boxes around the anchors, gradients everywhere",
          "[nn][detr][model]") {
  torch::manual_seed(4);
  DetrOptions o = tiny_options(3);
  o.anchor_points = true;
  o.criterion.focal = true;
  Detr model(small_backbone(), o);
  std::set<std::string> names;
  for (const auto& kv : model.named_parameters()) names.insert(kv.key());
  CHECK(names.count("anchor_embed.weight") == 1);
  CHECK(names.count("query_embed.weight") == 0);  // the points are the queries
  const torch::Tensor anchors = model.named_parameters()["anchor_embed.weight"].sigmoid();
  using torch::indexing::Slice;
  const torch::Tensor points = anchors.index({Slice(), Slice(0, 2)});
  CHECK(points.min().item<double>() >= 0.02 - 1e-6);
  CHECK(points.max().item<double>() <= 0.98 + 1e-6);
  CHECK(torch::allclose(anchors.index({Slice(), Slice(2, 4)}), torch::full({7, 2}, 0.1f)));

  model.eval();
  const DetrOutputs out = model.forward(torch::randn({2, 3, 64, 96}), {{64, 96}, {48, 96}});
  CHECK(out.logits.sizes() == torch::IntArrayRef({2, 2, 7, 3}));  // L x N x Q x K: no "no object" column
  // With the box head's last layer zeroed every box is its query's anchor.
  {
    torch::NoGradGuard no_grad;
    for (auto& kv : model.named_parameters())
      if (kv.key().rfind("bbox_embed.layers.2", 0) == 0) kv.value().zero_();
  }
  const DetrOutputs centred = model.forward(torch::randn({1, 3, 64, 96}), {{64, 96}});
  CHECK(torch::allclose(centred.boxes[-1][0], anchors, 0, 1e-5));
  const auto dets = model.detect(torch::randn({1, 3, 64, 96}), {{64, 96}});
  REQUIRE(dets.size() == 1);
  CHECK(dets[0].scores.numel() == 7);
  CHECK(dets[0].labels.max().item<int64_t>() < 3);
  CHECK(dets[0].scores.max().item<double>() < 0.05);  // every class starts at probability 0.01

  model.train();
  std::vector<NetTarget> targets = {{torch::tensor({{10.f, 20.f, 50.f, 60.f}}), torch::tensor({2}, torch::kLong)}};
  const auto losses = model.losses(torch::randn({1, 3, 64, 96}), {{64, 96}}, targets);
  torch::Tensor total = torch::zeros({});
  for (const auto& kv : losses) total = total + kv.second;
  REQUIRE(std::isfinite(total.item<double>()));
  total.backward();
  CHECK(model.named_parameters()["anchor_embed.weight"].grad().abs().sum().item<double>() > 0);
}

TEST_CASE("detr token anchors: each token's cell over the image's unpadded part, two cells wide", "[nn][detr][model]") {
  // Image 0 fills the 4 x 5 map; image 1 fills 2 rows and 4 columns (padding at the bottom and right).
  torch::Tensor mask = torch::zeros({2, 4, 5}, torch::kBool);
  using torch::indexing::Slice;
  mask.index_put_({1, Slice(2, 4), Slice()}, true);
  mask.index_put_({1, Slice(), 4}, true);
  const torch::Tensor anchors = Detr::token_anchors(mask);
  REQUIRE(anchors.sizes() == torch::IntArrayRef({2, 20, 4}));
  const torch::Tensor boxes = anchors.sigmoid();
  // Token (row 1, column 2) of image 0: centre (2.5 / 5, 1.5 / 4), size (2 / 5, 2 / 4).
  CHECK(torch::allclose(boxes[0][1 * 5 + 2], torch::tensor({0.5f, 0.375f, 0.4f, 0.5f}), 0, 1e-5));
  // Token (1, 3) of image 1: centre (3.5 / 4, 1.5 / 2), width 2 / 4, height 2 / 2 clamped just below 1.
  CHECK(torch::allclose(boxes[1][1 * 5 + 3], torch::tensor({0.875f, 0.75f, 0.5f, 0.9999f}), 0, 1e-4));
  // Padded tokens get logits 0.
  CHECK(anchors[1][3 * 5 + 4].abs().max().item<double>() == 0);
  CHECK(anchors[1][0 * 5 + 4].abs().max().item<double>() == 0);
}

TEST_CASE("detr two-stage: the best-scoring encoder tokens' boxes are the queries' anchors, plus encoder losses",
          "[nn][detr][model]") {
  torch::manual_seed(5);
  DetrOptions o = tiny_options(3);
  o.two_stage = true;
  Detr model(small_backbone(), o);
  std::set<std::string> names;
  for (const auto& kv : model.named_parameters()) names.insert(kv.key());
  CHECK(names.count("enc_class_embed.weight") == 1);
  CHECK(names.count("query_embed.weight") == 0);  // the tokens are the queries

  model.eval();
  // 128 x 160 at stride 32: a 4 x 5 map, 20 tokens for 7 queries; the second image is 64 x 96 (2 x 3 tokens).
  const std::vector<ImageSize> sizes = {{128, 160}, {64, 96}};
  const DetrOutputs out = model.forward(torch::randn({2, 3, 128, 160}), sizes);
  CHECK(out.logits.sizes() == torch::IntArrayRef({2, 2, 7, 4}));  // L x N x Q x (K + 1)
  CHECK(out.enc_logits.sizes() == torch::IntArrayRef({2, 20, 4}));
  CHECK(out.enc_boxes.sizes() == torch::IntArrayRef({2, 20, 4}));
  // With the box head's last layer zeroed each query's box is its token's box: the 7 best tokens by object-class
  // probability, and every token of the small image (6 valid tokens) is among its 7.
  {
    torch::NoGradGuard no_grad;
    for (auto& kv : model.named_parameters())
      if (kv.key().rfind("bbox_embed.layers.2", 0) == 0) kv.value().zero_();
  }
  const torch::Tensor input = torch::randn({2, 3, 128, 160});
  const DetrOutputs zeroed = model.forward(input, sizes);
  using torch::indexing::Slice;
  for (int64_t b = 0; b < 2; ++b) {
    const torch::Tensor score =
        std::get<0>(zeroed.enc_logits[b].softmax(-1).index({Slice(), Slice(0, 3)}).max(-1));  // S
    const torch::Tensor dist = torch::cdist(zeroed.boxes[-1][b], zeroed.enc_boxes[b]);         // Q x S
    const torch::Tensor chosen = std::get<1>(dist.min(1));                                     // Q
    CHECK(std::get<0>(dist.min(1)).max().item<double>() < 1e-5);
    std::set<int64_t> picked;
    for (int64_t q = 0; q < 7; ++q) picked.insert(chosen[q].item<int64_t>());
    CHECK(picked.size() == 7);
    if (b == 0) {
      const torch::Tensor best = std::get<1>(score.topk(7));
      for (int64_t q = 0; q < 7; ++q) CHECK(picked.count(best[q].item<int64_t>()) == 1);
    } else {
      for (int64_t t : {0, 1, 2, 5, 6, 7}) CHECK(picked.count(t) == 1);  // rows 0-1, columns 0-2 of the 4 x 5 map
    }
  }
  // A map with fewer tokens than queries gives one query per token.
  CHECK(model.forward(torch::randn({1, 3, 64, 96}), {{64, 96}}).logits.size(2) == 6);

  model.train();
  std::vector<NetTarget> targets = {
      {torch::tensor({{10.f, 20.f, 50.f, 60.f}, {60.f, 10.f, 120.f, 40.f}}), torch::tensor({0, 2}, torch::kLong)},
      {torch::tensor({{5.f, 5.f, 30.f, 30.f}}), torch::tensor({1}, torch::kLong)}};
  const auto losses = model.losses(torch::randn({2, 3, 128, 160}), sizes, targets);
  CHECK(losses.size() == 9);  // 2 decoder layers and the encoder tokens x (ce, bbox, giou)
  for (const char* key : {"loss_ce_enc", "loss_bbox_enc", "loss_giou_enc"}) CHECK(losses.count(key) == 1);
  torch::Tensor total = torch::zeros({});
  for (const auto& kv : losses) total = total + kv.second;
  REQUIRE(std::isfinite(total.item<double>()));
  total.backward();
  for (const auto& kv : model.named_parameters()) {
    INFO(kv.key());
    REQUIRE(kv.value().grad().defined());
  }
}

TEST_CASE("detr refuses inconsistent options", "[nn][detr][model]") {
  DetrOptions o = tiny_options(2);
  o.transformer.d_model = 30;  // not a multiple of 4
  o.transformer.nhead = 3;
  CHECK_THROWS(Detr(small_backbone(), o));
  o = tiny_options(2);
  o.feature = "layer9";
  CHECK_THROWS_WITH(Detr(small_backbone(), o), Catch::Contains("layer9"));
  o = tiny_options(0);
  CHECK_THROWS(Detr(small_backbone(), o));
  o = tiny_options(2);
  o.anchor_points = o.two_stage = true;
  CHECK_THROWS_WITH(Detr(small_backbone(), o), Catch::Contains("two_stage"));
}
