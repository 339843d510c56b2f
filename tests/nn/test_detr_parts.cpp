// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Tests of DETR's parts: sine positional encoding, padding masks, MLP, transformer names / shapes / masking.
#include <cmath>
#include <set>

#include "nn/catch_torch.h"
#include "nn/detr/mlp.h"
#include "nn/detr/position_encoding.h"
#include "nn/detr/transformer.h"

using namespace detlab;

namespace {

/// The formula of DETR's PositionEmbeddingSine written out per pixel (no padding): positions 1..H and 1..W,
/// normalized by H and W, times scale.
double sine_ref(int64_t channel, int64_t y, int64_t x, int64_t H, int64_t W, int64_t F, bool normalize) {
  const double scale = 2 * M_PI;
  const bool is_x = channel >= F;
  const int64_t c = channel % F;
  double pos = is_x ? static_cast<double>(x + 1) : static_cast<double>(y + 1);
  if (normalize) pos = pos / ((is_x ? W : H) + 1e-6) * scale;
  const double dim_t = std::pow(10000.0, 2.0 * static_cast<double>(c / 2) / static_cast<double>(F));
  return c % 2 == 0 ? std::sin(pos / dim_t) : std::cos(pos / dim_t);
}

}  // namespace

TEST_CASE("sine position embedding equals DETR's formula", "[nn][detr]") {
  const int64_t H = 3, W = 5, F = 8;
  for (bool normalize : {true, false}) {
    PositionEmbeddingSineOptions o;
    o.num_pos_feats = F;
    o.normalize = normalize;
    const torch::Tensor pos = position_embedding_sine(torch::zeros({2, H, W}, torch::kBool), o);
    REQUIRE(pos.sizes() == torch::IntArrayRef({2, 2 * F, H, W}));
    for (int64_t c = 0; c < 2 * F; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x)
          REQUIRE(pos[1][c][y][x].item<double>() == Approx(sine_ref(c, y, x, H, W, F, normalize)).margin(1e-5));
  }
}

TEST_CASE("sine point embedding gives a point what the map encoding gives the pixel there", "[nn][detr]") {
  // Anchor points (DetrOptions::anchor_points) must speak the keys' language: the point at a pixel's normalized
  // position gets that pixel's encoding.
  const int64_t H = 3, W = 5, F = 8;
  PositionEmbeddingSineOptions o;
  o.num_pos_feats = F;
  const torch::Tensor map = position_embedding_sine(torch::zeros({1, H, W}, torch::kBool), o);
  std::vector<float> xy;
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      xy.push_back(static_cast<float>(static_cast<double>(x + 1) / (W + 1e-6)));
      xy.push_back(static_cast<float>(static_cast<double>(y + 1) / (H + 1e-6)));
    }
  const torch::Tensor points = torch::tensor(xy).view({H * W, 2});
  const torch::Tensor enc = point_embedding_sine(points, o);
  REQUIRE(enc.sizes() == torch::IntArrayRef({H * W, 2 * F}));
  CHECK(torch::allclose(enc, map[0].flatten(1).t(), /*rtol=*/0, /*atol=*/1e-5));
  CHECK_THROWS(point_embedding_sine(torch::zeros({4, 3}), o));
}

TEST_CASE("sine position embedding of a padded image equals that of the image alone", "[nn][detr]") {
  const torch::Tensor small = position_embedding_sine(torch::zeros({1, 4, 6}, torch::kBool));
  const torch::Tensor mask = padding_mask({{4, 6}, {7, 9}}, 7, 9, torch::kCPU);
  CHECK(mask[0].logical_not().sum().item<int64_t>() == 24);
  CHECK(mask[1].any().item<bool>() == false);
  const torch::Tensor padded = position_embedding_sine(mask);
  CHECK(torch::allclose(padded[0].slice(1, 0, 4).slice(2, 0, 6), small[0], 1e-5, 1e-5));
  CHECK_FALSE(torch::allclose(padded[1].slice(1, 0, 4).slice(2, 0, 6), small[0], 1e-3, 1e-3));
}

TEST_CASE("padding masks resize by nearest neighbour", "[nn][detr]") {
  const torch::Tensor mask = padding_mask({{64, 32}}, 64, 64, torch::kCPU);
  const torch::Tensor small = resize_mask(mask, 2, 2);
  REQUIRE(small.scalar_type() == torch::kBool);
  CHECK(small[0][0][0].item<bool>() == false);
  CHECK(small[0][0][1].item<bool>() == true);
  CHECK(small[0][1][0].item<bool>() == false);
  CHECK_THROWS(padding_mask({{65, 10}}, 64, 64, torch::kCPU));
}

TEST_CASE("mlp has DETR's keys and ReLU between layers only", "[nn][detr]") {
  Mlp mlp(4, 8, 2, 3);
  std::set<std::string> keys;
  for (const auto& kv : mlp->named_parameters()) keys.insert(kv.key());
  CHECK(keys == std::set<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                      "layers.2.weight", "layers.2.bias"});
  // With a 1-layer MLP there is no activation: the output can be negative.
  Mlp linear(3, 5, 1, 1);
  torch::NoGradGuard g;
  linear->named_parameters()["layers.0.weight"].fill_(-1);
  linear->named_parameters()["layers.0.bias"].zero_();
  CHECK(linear->forward(torch::ones({1, 3})).item<float>() == -3.f);
  CHECK(mlp->forward(torch::randn({5, 7, 4})).sizes() == torch::IntArrayRef({5, 7, 2}));
}

TEST_CASE("transformer has DETR's parameter names and counts", "[nn][detr]") {
  Transformer t(TransformerOptions{});  // the paper's 6 + 6 layers of width 256
  std::set<std::string> keys;
  for (const auto& kv : t.named_parameters()) keys.insert(kv.key());
  for (const char* k : {"encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.0.self_attn.in_proj_bias",
                        "encoder.layers.5.self_attn.out_proj.weight", "encoder.layers.0.linear1.weight",
                        "encoder.layers.0.linear2.bias", "encoder.layers.0.norm1.weight", "encoder.layers.0.norm2.bias",
                        "decoder.layers.0.self_attn.in_proj_weight", "decoder.layers.5.multihead_attn.out_proj.bias",
                        "decoder.layers.0.norm3.weight", "decoder.norm.weight", "decoder.norm.bias"}) {
    INFO(k);
    CHECK(keys.count(k) == 1);
  }
  // 6 encoder layers of 1,315,072 + 6 decoder layers of 1,578,752 + the decoder norm's 512 (DETR-R50's transformer).
  int64_t n = 0;
  for (const auto& p : t.parameters()) n += p.numel();
  CHECK(n == 17363456);
  CHECK(keys.size() == 6 * 12 + 6 * 18 + 2);
}

TEST_CASE("transformer output shapes and intermediate decoder layers", "[nn][detr]") {
  torch::manual_seed(0);
  TransformerOptions o;
  o.d_model = 16;
  o.nhead = 2;
  o.num_encoder_layers = 1;
  o.num_decoder_layers = 3;
  o.dim_feedforward = 32;
  Transformer t(o);
  t.eval();
  torch::NoGradGuard g;
  const torch::Tensor src = torch::randn({2, 16, 3, 4});
  const torch::Tensor mask = torch::zeros({2, 3, 4}, torch::kBool);
  const torch::Tensor pos = torch::randn({2, 16, 3, 4});
  const torch::Tensor queries = torch::randn({5, 16});
  const auto out = t.forward(src, mask, queries, pos);
  CHECK(out.hs.sizes() == torch::IntArrayRef({3, 2, 5, 16}));
  CHECK(out.memory.sizes() == torch::IntArrayRef({2, 16, 3, 4}));
  // Every intermediate output went through the shared decoder norm: zero mean, unit variance per embedding.
  CHECK(out.hs.mean(-1).abs().max().item<float>() < 1e-5f);
  o.return_intermediate_dec = false;
  Transformer last(o);
  last.eval();
  CHECK(last.forward(src, mask, queries, pos).hs.size(0) == 1);
}

TEST_CASE("transformer ignores features and positions at padded positions", "[nn][detr]") {
  torch::manual_seed(1);
  TransformerOptions o;
  o.d_model = 16;
  o.nhead = 4;
  o.num_encoder_layers = 2;
  o.num_decoder_layers = 2;
  o.dim_feedforward = 32;
  Transformer t(o);
  t.eval();
  torch::NoGradGuard g;
  const torch::Tensor mask = padding_mask({{2, 3}}, 4, 4, torch::kCPU);
  const torch::Tensor src = torch::randn({1, 16, 4, 4});
  const torch::Tensor pos = torch::randn({1, 16, 4, 4});
  const torch::Tensor queries = torch::randn({6, 16});
  const torch::Tensor hs = t.forward(src, mask, queries, pos).hs;
  torch::Tensor src2 = src.clone(), pos2 = pos.clone();
  src2.masked_fill_(mask.unsqueeze(1), 100.f);  // garbage where the mask says padding
  pos2.masked_fill_(mask.unsqueeze(1), -50.f);
  const torch::Tensor hs2 = t.forward(src2, mask, queries, pos2).hs;
  CHECK(torch::allclose(hs, hs2, 1e-5, 1e-5));
  // Without the mask the garbage matters (the test can fail).
  const torch::Tensor open = torch::zeros_like(mask);
  CHECK_FALSE(
      torch::allclose(t.forward(src, open, queries, pos).hs, t.forward(src2, open, queries, pos2).hs, 1e-3, 1e-3));
}

TEST_CASE("recorded attention leaves the outputs unchanged and equals softmax(q k^T / sqrt(d)) by hand",
          "[nn][detr][attention]") {
  torch::manual_seed(2);
  TransformerOptions o;
  o.d_model = 16;
  o.nhead = 2;
  o.num_encoder_layers = 2;
  o.num_decoder_layers = 2;
  o.dim_feedforward = 32;
  Transformer t(o);
  t.eval();
  torch::NoGradGuard g;
  const torch::Tensor mask = padding_mask({{3, 3}, {2, 4}}, 3, 4, torch::kCPU);
  const torch::Tensor src = torch::randn({2, 16, 3, 4});
  const torch::Tensor pos = torch::randn({2, 16, 3, 4});
  const torch::Tensor queries = torch::randn({5, 16});
  const auto plain = t.forward(src, mask, queries, pos);
  CHECK(t.attention().encoder.empty());  // off unless asked
  t.set_record_attention(true);
  const auto recorded = t.forward(src, mask, queries, pos);
  const Transformer::Attention a = t.attention();
  t.set_record_attention(false);
  CHECK(torch::equal(plain.hs, recorded.hs));
  CHECK(torch::equal(plain.memory, recorded.memory));
  REQUIRE(a.encoder.size() == 2);
  REQUIRE(a.decoder.size() == 2);
  for (const torch::Tensor& w : a.encoder) CHECK(w.sizes() == torch::IntArrayRef({2, 12, 12}));
  for (const torch::Tensor& w : a.decoder) CHECK(w.sizes() == torch::IntArrayRef({2, 5, 12}));
  // Rows are distributions over the image's own tokens: padded keys get nothing.
  const torch::Tensor keys_open = (~mask.flatten(1)).to(torch::kFloat).unsqueeze(1);  // N x 1 x S
  for (const torch::Tensor& w : a.encoder) {
    CHECK(torch::allclose(w.sum(-1), torch::ones({2, 12}), 1e-5, 1e-5));
    CHECK((w * (1 - keys_open)).abs().max().item<float>() == 0.f);
  }
  for (const torch::Tensor& w : a.decoder) CHECK(torch::allclose(w.sum(-1), torch::ones({2, 5}), 1e-5, 1e-5));

  // The first encoder layer's weights by hand: per head softmax((W_q (x + p)) (W_k (x + p))^T / sqrt(d_h)) with
  // padded keys masked, then the mean over the heads.
  const auto& layer = *t.named_modules("", /*include_self=*/false)["encoder.layers.0.self_attn"]->as<torch::nn::MultiheadAttentionImpl>();
  const torch::Tensor x = (src + pos).flatten(2).permute({0, 2, 1});  // N x S x E
  const torch::Tensor w_in = layer.in_proj_weight, b_in = layer.in_proj_bias;
  const torch::Tensor q = torch::matmul(x, w_in.narrow(0, 0, 16).t()) + b_in.narrow(0, 0, 16);
  const torch::Tensor k = torch::matmul(x, w_in.narrow(0, 16, 16).t()) + b_in.narrow(0, 16, 16);
  torch::Tensor mean = torch::zeros({2, 12, 12});
  for (int64_t h = 0; h < 2; ++h) {
    const torch::Tensor qh = q.narrow(2, 8 * h, 8), kh = k.narrow(2, 8 * h, 8);
    torch::Tensor logits = torch::matmul(qh, kh.transpose(1, 2)) / std::sqrt(8.0);
    logits = logits.masked_fill(mask.flatten(1).unsqueeze(1), -INFINITY);
    mean = mean + logits.softmax(-1) / 2;
  }
  CHECK(torch::allclose(a.encoder[0], mean, 1e-5, 1e-6));
}
