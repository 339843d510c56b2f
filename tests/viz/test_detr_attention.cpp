// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DETR's attention figures: the maps are the recorded attention rows of the predicted objects' queries and of
// the tokens under the reference points, placed on the original image; the files are written.
#include <catch2/catch.hpp>

#include <opencv2/core.hpp>

#include "core/error.h"
#include "nn/backbones/make_backbone.h"
#include "nn/detr/detr.h"
#include "support/cli_runner.h"
#include "viz/classifier_model.h"
#include "viz/detr_attention.h"

using namespace detlab;

namespace {

std::shared_ptr<Detr> tiny_detr() {
  torch::manual_seed(3);
  DetrOptions o;
  o.num_classes = 2;
  o.num_queries = 5;
  o.transformer.d_model = 32;
  o.transformer.nhead = 4;
  o.transformer.num_encoder_layers = 2;
  o.transformer.num_decoder_layers = 2;
  o.transformer.dim_feedforward = 64;
  BackboneOptions bo;
  bo.out_features = {"layer4"};
  return std::make_shared<Detr>(make_backbone("small_resnet", bo), o);
}

}  // namespace

TEST_CASE("detr attention maps are the recorded rows of the objects' queries and the points' tokens",
          "[viz][detr][attention]") {
  const std::shared_ptr<Detr> detr = tiny_detr();
  TransformOptions t;
  t.min_size = 96;
  t.max_size = 200;
  t.size_divisibility = 32;
  BackboneScoreModel input_model(detr->backbone(), detr, t, torch::kCPU);
  cv::Mat bgr(120, 160, CV_8UC3);  // resized to 96 x 128, padded to 96 x 128: a 3 x 4 token grid
  cv::randu(bgr, 0, 255);
  const ModelInput in = make_input(bgr, input_model);

  DetrAttentionOptions o;
  o.min_score = 0;
  o.max_objects = 3;
  o.points = {{10.f, 10.f}, {150.f, 110.f}};
  const DetrAttention a = detr_attention(*detr, in, o);
  CHECK(a.grid_height == 3);
  CHECK(a.grid_width == 4);
  CHECK(a.decoder_layer == 1);  // the last of two
  CHECK(a.encoder_layer == 1);
  REQUIRE(a.objects.size() == 3);
  for (size_t i = 0; i + 1 < a.objects.size(); ++i) CHECK(a.objects[i].score >= a.objects[i + 1].score);
  // Each map is a distribution over 12 tokens upsampled onto the image: values in [0, 1], mean ~1/12 (bilinear
  // interpolation keeps the mean up to edge effects), and it differs between queries.
  for (const AttendedObject& obj : a.objects) {
    REQUIRE(obj.map.size() == bgr.size());
    double lo = 0, hi = 0;
    cv::minMaxLoc(obj.map, &lo, &hi);
    CHECK(lo >= 0);
    CHECK(hi <= 1);
    CHECK(cv::mean(obj.map)[0] == Approx(1.0 / 12).epsilon(0.25));
    CHECK(obj.image_box.x2 <= 160.5f);
  }
  CHECK(cv::norm(a.objects[0].map, a.objects[1].map) > 0);
  // The points sit on tokens 0 (top-left) and 11 (bottom-right).
  REQUIRE(a.points.size() == 2);
  CHECK(a.points[0].token == 0);
  CHECK(a.points[1].token == 11);

  // The maps are the attention rows: with the model's own recording, the decoder row of the best query.
  Transformer& tr = detr->transformer();
  tr.set_record_attention(true);
  {
    torch::NoGradGuard g;
    detr->forward(in.tensor, {{in.meta.height, in.meta.width}});
  }
  const torch::Tensor row = tr.attention().decoder.back()[0][a.objects[0].query];  // 12 tokens
  tr.set_record_attention(false);
  // Token (1, 2)'s centre, in original pixels: network (2.5 * 32, 1.5 * 32) / scale 0.8.
  // (bilinear steps: the pixel centre sits ~0.01 token off the token centre)
  CHECK(a.objects[0].map.at<float>(60, 100) == Approx(row[1 * 4 + 2].item<float>()).margin(5e-3));

  testing::TempDir tmp("detlab_test_detr_attention");
  save_detr_attention(a, in, {"a", "b"}, tmp.path, "img", Colormap::kInferno);
  CHECK(std::filesystem::exists(tmp.path / "img_decoder.png"));
  CHECK(std::filesystem::exists(tmp.path / "img_encoder.png"));
  CHECK(std::filesystem::exists(tmp.path / "img.json"));

  o.points = {{500.f, 10.f}};
  CHECK_THROWS_AS(detr_attention(*detr, in, o), InputError);
}
