// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Parity with DETR's reference implementation (tests/nn/tv_export_detr.py, a transcription of facebookresearch/detr):
// the same weights load strictly by DETR's names, and positions, transformer outputs, heads, matching and set losses
// agree on a fixed feature map with padding.
#include "nn/backbones/make_backbone.h"
#include "nn/detr/detr.h"
#include "nn/detr/position_encoding.h"
#include "nn/tv_fixture.h"
#include "nn/weights/state_dict.h"

using namespace detlab;

TEST_CASE("detr head matches DETR's reference implementation", "[nn][detr][parity]") {
  const auto dir = test::tv_fixture("detr_head");
  if (dir.empty()) return;  // skipped (DETLAB_SKIP_TV_PARITY=1), reported by tv_fixture
  const auto state = test::load_tensors(dir / "state_dict.pt");
  const auto in = test::load_tensors(dir / "inputs.pt");
  const auto out = test::load_tensors(dir / "outputs.pt");
  const torch::Tensor features = in.at("features"), mask = in.at("mask");

  // The fixture's sizes: d_model 64, 4 heads, 2 + 3 layers, feed-forward 128, 12 queries, 5 classes, 32 channels
  // (small_resnet's layer2).
  DetrOptions o;
  o.num_classes = 5;
  o.num_queries = 12;
  o.feature = "layer2";
  o.transformer = {64, 4, 2, 3, 128, 0.1, true};
  BackboneOptions bo;
  bo.out_features = {"layer2"};
  Detr model(make_backbone("small_resnet", bo), o);
  LoadOptions lo;
  lo.ignore = {"backbone."};
  const LoadReport report = load_state_dict(model, state, lo, "detr_head");
  CHECK(report.loaded.size() == state.size());
  model.eval();
  torch::NoGradGuard g;

  SECTION("sine positions") {
    PositionEmbeddingSineOptions pe;
    pe.num_pos_feats = 32;
    const torch::Tensor pos = position_embedding_sine(mask, pe);
    CHECK(test::max_abs_diff(pos, out.at("pos")) <= 1e-5);
  }
  SECTION("transformer: memory and every decoder layer") {
    Transformer t(o.transformer);
    LoadOptions tl;
    tl.rename = {{"transformer.", ""}};
    tl.drop_unrenamed = true;
    load_state_dict(t, state, tl, "detr_head");
    t.eval();
    const torch::Tensor src = torch::conv2d(features, state.at("input_proj.weight"), state.at("input_proj.bias"));
    const auto r = t.forward(src, mask, state.at("query_embed.weight"), out.at("pos"));
    CHECK(test::max_abs_diff(r.hs, out.at("hs")) <= test::parity_tolerance(out.at("hs")));
    // Padded memory positions are not used by anything downstream; compare the valid ones (all of image 0).
    CHECK(test::max_abs_diff(r.memory[0], out.at("memory")[0]) <= test::parity_tolerance(out.at("memory")));
  }
  SECTION("heads, matching and set losses") {
    const DetrOutputs pred = model.forward_features(features, mask);
    CHECK(test::max_abs_diff(pred.logits, out.at("pred_logits")) <= test::parity_tolerance(out.at("pred_logits")));
    CHECK(test::max_abs_diff(pred.boxes, out.at("pred_boxes")) <= 1e-5);

    const std::vector<SetTarget> targets = {{in.at("labels_0"), in.at("boxes_0")},
                                                {in.at("labels_1"), in.at("boxes_1")}};
    // Losses on the reference's own predictions, so that only the criterion is compared.
    const torch::Tensor logits = out.at("pred_logits"), boxes = out.at("pred_boxes");
    const auto matches = model.criterion().matcher()(logits[-1], boxes[-1], targets);
    for (int i = 0; i < 2; ++i) {
      CHECK(torch::equal(matches[i].pred, out.at("match_pred_" + std::to_string(i))));
      CHECK(torch::equal(matches[i].target, out.at("match_tgt_" + std::to_string(i))));
    }
    const auto losses = model.criterion()(logits, boxes, targets);
    REQUIRE(losses.size() == 9);
    const std::map<std::string, double> weights = {{"loss_ce", 1}, {"loss_bbox", 5}, {"loss_giou", 2}};
    for (const auto& [key, value] : losses) {
      INFO(key);
      const std::string base = key.substr(0, key.find('_', 5));
      CHECK(value.item<double>() == Approx(weights.at(base) * out.at(key).item<double>()).epsilon(1e-5));
    }
  }
}
