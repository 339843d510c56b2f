// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DETR's transformer: encoder / decoder layers (forward_post) and the encoder-decoder over a feature map.
#include "nn/detr/transformer.h"

#include <torch/nn/init.h>

namespace detlab {

namespace {

torch::nn::MultiheadAttention make_attention(const TransformerOptions& o) {
  return torch::nn::MultiheadAttention(torch::nn::MultiheadAttentionOptions(o.d_model, o.nhead).dropout(o.dropout));
}

torch::nn::LayerNorm make_norm(int64_t d) { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})); }

torch::nn::Dropout make_dropout(double p) { return torch::nn::Dropout(torch::nn::DropoutOptions(p)); }

torch::Tensor with_pos(const torch::Tensor& x, const torch::Tensor& pos) { return pos.defined() ? x + pos : x; }

}  // namespace

TransformerEncoderLayerImpl::TransformerEncoderLayerImpl(const TransformerOptions& o) {
  self_attn = register_module("self_attn", make_attention(o));
  linear1 = register_module("linear1", torch::nn::Linear(o.d_model, o.dim_feedforward));
  dropout = register_module("dropout", make_dropout(o.dropout));
  linear2 = register_module("linear2", torch::nn::Linear(o.dim_feedforward, o.d_model));
  norm1 = register_module("norm1", make_norm(o.d_model));
  norm2 = register_module("norm2", make_norm(o.d_model));
  dropout1 = register_module("dropout1", make_dropout(o.dropout));
  dropout2 = register_module("dropout2", make_dropout(o.dropout));
}

torch::Tensor TransformerEncoderLayerImpl::forward(const torch::Tensor& src, const torch::Tensor& key_padding_mask,
                                                   const torch::Tensor& pos, torch::Tensor* attention) {
  const torch::Tensor q = with_pos(src, pos);
  auto [attended, weights] = self_attn(q, q, src, key_padding_mask, /*need_weights=*/attention != nullptr);
  if (attention) *attention = weights.detach();
  torch::Tensor x = src + dropout1(attended);
  x = norm1(x);
  x = x + dropout2(linear2(dropout(torch::relu(linear1(x)))));
  return norm2(x);
}

TransformerDecoderLayerImpl::TransformerDecoderLayerImpl(const TransformerOptions& o) {
  self_attn = register_module("self_attn", make_attention(o));
  multihead_attn = register_module("multihead_attn", make_attention(o));
  linear1 = register_module("linear1", torch::nn::Linear(o.d_model, o.dim_feedforward));
  dropout = register_module("dropout", make_dropout(o.dropout));
  linear2 = register_module("linear2", torch::nn::Linear(o.dim_feedforward, o.d_model));
  norm1 = register_module("norm1", make_norm(o.d_model));
  norm2 = register_module("norm2", make_norm(o.d_model));
  norm3 = register_module("norm3", make_norm(o.d_model));
  dropout1 = register_module("dropout1", make_dropout(o.dropout));
  dropout2 = register_module("dropout2", make_dropout(o.dropout));
  dropout3 = register_module("dropout3", make_dropout(o.dropout));
}

torch::Tensor TransformerDecoderLayerImpl::forward(const torch::Tensor& tgt, const torch::Tensor& memory,
                                                   const torch::Tensor& memory_key_padding_mask,
                                                   const torch::Tensor& pos, const torch::Tensor& query_pos,
                                                   torch::Tensor* attention) {
  const torch::Tensor q = with_pos(tgt, query_pos);
  torch::Tensor x = tgt + dropout1(std::get<0>(self_attn(q, q, tgt, torch::Tensor(), /*need_weights=*/false)));
  x = norm1(x);
  auto [attended, weights] = multihead_attn(with_pos(x, query_pos), with_pos(memory, pos), memory,
                                            memory_key_padding_mask, /*need_weights=*/attention != nullptr);
  if (attention) *attention = weights.detach();
  x = norm2(x + dropout2(attended));
  x = x + dropout3(linear2(dropout(torch::relu(linear1(x)))));
  return norm3(x);
}

Transformer::Transformer(const TransformerOptions& o) : opts_(o) {
  TORCH_CHECK(o.d_model > 0 && o.nhead > 0 && o.d_model % o.nhead == 0, "Transformer: d_model (", o.d_model,
              ") must be a positive multiple of nhead (", o.nhead, ")");
  TORCH_CHECK(o.num_encoder_layers >= 0 && o.num_decoder_layers >= 1 && o.dim_feedforward > 0,
              "Transformer: num_encoder_layers=", o.num_encoder_layers, " num_decoder_layers=", o.num_decoder_layers,
              " dim_feedforward=", o.dim_feedforward);
  TORCH_CHECK(o.dropout >= 0 && o.dropout < 1, "Transformer: dropout must be in [0, 1), got ", o.dropout);
  // encoder.layers.i / decoder.layers.i / decoder.norm, as DETR's TransformerEncoder / TransformerDecoder.
  encoder_ = register_module("encoder", std::make_shared<torch::nn::Module>());
  decoder_ = register_module("decoder", std::make_shared<torch::nn::Module>());
  encoder_layers_ = encoder_->register_module("layers", torch::nn::ModuleList());
  decoder_layers_ = decoder_->register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_encoder_layers; ++i) encoder_layers_->push_back(TransformerEncoderLayer(o));
  for (int64_t i = 0; i < o.num_decoder_layers; ++i) decoder_layers_->push_back(TransformerDecoderLayer(o));
  decoder_norm_ = decoder_->register_module("norm", make_norm(o.d_model));

  torch::NoGradGuard no_grad;
  for (auto& p : parameters()) {
    if (p.dim() > 1) torch::nn::init::xavier_uniform_(p);
  }
}

Transformer::Output Transformer::forward(const torch::Tensor& src, const torch::Tensor& mask,
                                         const torch::Tensor& query_embed, const torch::Tensor& pos_embed) {
  TORCH_CHECK(src.dim() == 4 && src.size(1) == opts_.d_model, "Transformer: src must be N x ", opts_.d_model,
              " x H x W, got ", src.sizes());
  TORCH_CHECK(
      mask.dim() == 3 && mask.size(0) == src.size(0) && mask.size(1) == src.size(2) && mask.size(2) == src.size(3),
      "Transformer: mask ", mask.sizes(), " does not fit src ", src.sizes());
  TORCH_CHECK(query_embed.dim() == 2 && query_embed.size(1) == opts_.d_model, "Transformer: query_embed must be Q x ",
              opts_.d_model, ", got ", query_embed.sizes());
  TORCH_CHECK(pos_embed.sizes() == src.sizes(), "Transformer: pos_embed ", pos_embed.sizes(), " != src ", src.sizes());
  const int64_t n = src.size(0), c = src.size(1), h = src.size(2), w = src.size(3);
  const torch::Tensor seq = src.flatten(2).permute({2, 0, 1});  // HW x N x E
  const torch::Tensor pos = pos_embed.flatten(2).permute({2, 0, 1});
  const torch::Tensor query_pos = query_embed.unsqueeze(1).repeat({1, n, 1});
  const torch::Tensor key_mask = mask.flatten(1);

  const torch::Tensor memory = encode(seq, key_mask, pos);
  const torch::Tensor hs = decode(memory, key_mask, pos, query_pos);
  return {hs, memory.permute({1, 2, 0}).reshape({n, c, h, w})};
}

torch::Tensor Transformer::encode(const torch::Tensor& seq, const torch::Tensor& key_mask, const torch::Tensor& pos) {
  torch::Tensor memory = seq;
  if (record_) attention_.encoder.clear();
  for (const auto& layer : *encoder_layers_) {
    torch::Tensor weights;
    memory = layer->as<TransformerEncoderLayer>()->forward(memory, key_mask, pos, record_ ? &weights : nullptr);
    if (record_) attention_.encoder.push_back(weights);
  }
  return memory;
}

torch::Tensor Transformer::decode(const torch::Tensor& memory, const torch::Tensor& key_mask,
                                  const torch::Tensor& pos, const torch::Tensor& query_pos, const torch::Tensor& tgt) {
  TORCH_CHECK(!tgt.defined() || tgt.sizes() == query_pos.sizes(), "Transformer::decode: tgt ", tgt.sizes(),
              " != query_pos ", query_pos.sizes());
  torch::Tensor out = tgt.defined() ? tgt : torch::zeros_like(query_pos);
  std::vector<torch::Tensor> intermediate;
  if (record_) attention_.decoder.clear();
  for (const auto& layer : *decoder_layers_) {
    torch::Tensor weights;
    out = layer->as<TransformerDecoderLayer>()->forward(out, memory, key_mask, pos, query_pos,
                                                          record_ ? &weights : nullptr);
    if (record_) attention_.decoder.push_back(weights);
    if (opts_.return_intermediate_dec) intermediate.push_back(decoder_norm_(out));
  }
  const torch::Tensor hs = opts_.return_intermediate_dec ? torch::stack(intermediate) : decoder_norm_(out).unsqueeze(0);
  return hs.transpose(1, 2);
}

}  // namespace detlab
