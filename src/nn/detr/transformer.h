// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DETR's transformer encoder-decoder (post-norm layers, intermediate decoder outputs), DETR's parameter names.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace detlab {

/// DETR's defaults (main.py): 6 + 6 layers of width 256 with 8 heads, feed-forward 2048, dropout 0.1.
struct TransformerOptions {
  int64_t d_model = 256;
  int64_t nhead = 8;
  int64_t num_encoder_layers = 6;
  int64_t num_decoder_layers = 6;
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  bool return_intermediate_dec = true;  // every decoder layer's output (normalized): the auxiliary losses need them
};

/// Post-norm encoder layer (DETR TransformerEncoderLayer.forward_post): self-attention with positions added to
/// queries and keys (not values), residual + LayerNorm, ReLU feed-forward, residual + LayerNorm.
/// Keys: self_attn.{in_proj_weight, in_proj_bias, out_proj.*}, linear1, linear2, norm1, norm2.
class TransformerEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit TransformerEncoderLayerImpl(const TransformerOptions& o);
  /*  requires: src S x N x E, pos S x N x E, key_padding_mask N x S bool (true = padding) or undefined.
      ensures:  S x N x E. */
  /// attention, when given, receives the self-attention weights N x S x S (averaged over the heads).
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& key_padding_mask, const torch::Tensor& pos,
                        torch::Tensor* attention = nullptr);

  torch::nn::MultiheadAttention self_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Dropout dropout{nullptr}, dropout1{nullptr}, dropout2{nullptr};
};
TORCH_MODULE(TransformerEncoderLayer);

/// Post-norm decoder layer (DETR TransformerDecoderLayer.forward_post): self-attention among the queries (query
/// positions added to q and k), cross-attention to the memory (query positions on q, memory positions on k),
/// feed-forward; each followed by residual + LayerNorm.
/// Keys: self_attn, multihead_attn, linear1, linear2, norm1, norm2, norm3.
class TransformerDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit TransformerDecoderLayerImpl(const TransformerOptions& o);
  /*  requires: tgt Q x N x E, memory S x N x E, memory_key_padding_mask N x S bool or undefined, pos S x N x E,
                query_pos Q x N x E.
      ensures:  Q x N x E. */
  /// attention, when given, receives the cross-attention weights N x Q x S (averaged over the heads).
  torch::Tensor forward(const torch::Tensor& tgt, const torch::Tensor& memory,
                        const torch::Tensor& memory_key_padding_mask, const torch::Tensor& pos,
                        const torch::Tensor& query_pos, torch::Tensor* attention = nullptr);

  torch::nn::MultiheadAttention self_attn{nullptr}, multihead_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  torch::nn::Dropout dropout{nullptr}, dropout1{nullptr}, dropout2{nullptr}, dropout3{nullptr};
};
TORCH_MODULE(TransformerDecoderLayer);

/// What this represents: DETR's Transformer (models/transformer.py, normalize_before = False): an encoder over
/// the flattened feature map and a decoder that turns N object queries into N output embeddings by attending to
/// the encoder memory. Parameter names equal DETR's (encoder.layers.i.*, decoder.layers.i.*, decoder.norm), so a
/// DETR checkpoint's `transformer.` entries load strictly. Initialization: Xavier-uniform for every parameter of
/// dimension > 1, as DETR's _reset_parameters.
/// thread safety: one forward at a time (dropout state in training mode).
class Transformer : public torch::nn::Module {
 public:
  /*  requires: d_model % nhead == 0; layer counts >= 1 (decoder) and >= 0 (encoder); positive sizes. */
  explicit Transformer(const TransformerOptions& o);

  struct Output {
    torch::Tensor hs;      // L x N x Q x E decoder outputs (L = num_decoder_layers, or 1 without intermediates)
    torch::Tensor memory;  // N x E x H x W encoder output
  };
  /*  requires: src N x E x H x W (projected features), mask N x H x W bool (true = padding), query_embed Q x E,
                pos_embed N x E x H x W.
      ensures:  see Output. */
  Output forward(const torch::Tensor& src, const torch::Tensor& mask, const torch::Tensor& query_embed,
                 const torch::Tensor& pos_embed);

  // The two halves of forward(), for models that look at the encoder output before choosing their queries
  // (two-stage DETR). Sequences are S x N x E (S = H W tokens in row-major order), as DETR's.
  /*  requires: seq S x N x E, key_mask N x S bool (true = padding), pos S x N x E.  ensures: S x N x E. */
  torch::Tensor encode(const torch::Tensor& seq, const torch::Tensor& key_mask, const torch::Tensor& pos);
  /*  requires: memory and pos S x N x E, key_mask N x S, query_pos Q x N x E (one set of queries per image);
                tgt undefined (DETR's zeros) or Q x N x E (the queries' first content).
      ensures:  L x N x Q x E, as Output::hs. */
  torch::Tensor decode(const torch::Tensor& memory, const torch::Tensor& key_mask, const torch::Tensor& pos,
                       const torch::Tensor& query_pos, const torch::Tensor& tgt = {});

  const TransformerOptions& options() const { return opts_; }

  /// Attention weights of the passes run while recording, for DETR's figures (the encoder's self-attention at
  /// a pixel, Fig. 3; the decoder's attention of a detection's query, Fig. 6): per layer, averaged over the heads
  /// as torch.nn.MultiheadAttention returns them, detached. Recording leaves the outputs unchanged; it is off
  /// unless set, and each encode() / decode() replaces its half.
  struct Attention {
    std::vector<torch::Tensor> encoder;  // per encoder layer: N x S x S, row = query token, column = key token
    std::vector<torch::Tensor> decoder;  // per decoder layer: N x Q x S, each query's attention over the tokens
  };
  void set_record_attention(bool on) {
    record_ = on;
    attention_ = {};
  }
  const Attention& attention() const { return attention_; }

 private:
  TransformerOptions opts_;
  bool record_ = false;
  Attention attention_;
  std::shared_ptr<torch::nn::Module> encoder_, decoder_;
  torch::nn::ModuleList encoder_layers_{nullptr}, decoder_layers_{nullptr};
  torch::nn::LayerNorm decoder_norm_{nullptr};
};

}  // namespace detlab
