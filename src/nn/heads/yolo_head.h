// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// YoloV1Head: YOLO v1's detection layers, from a backbone map to an S x S x (B * 5 + C) prediction tensor.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/types.h>

#include <cstdint>

namespace detlab {

struct YoloV1HeadOptions {
  int64_t in_channels = 0;
  int64_t grid_size = 7;          // S: the paper's 7 x 7 grid on 448 x 448 images
  int64_t num_boxes = 2;          // B: boxes (with confidence) per cell, as the paper
  int64_t num_classes = 0;        // C: one class distribution per cell
  int64_t hidden_channels = 256;  // width of the head convolutions (the paper's detection layers use 1024)
  int64_t num_convs = 2;          // 3 x 3 conv layers before the grid (the paper adds 4 to its classifier)
  int64_t fc_hidden = 0;          // > 0: the paper's FC head (S x S x hidden -> fc_hidden -> S x S x (5B + C))
  double dropout = 0.5;           // FC head only: the paper's dropout after the first connected layer
  double leaky_slope = 0.1;       // the paper's leaky rectified linear activation
  bool batch_norm = true;         // BatchNorm after each head conv (from YOLOv2; lets a small net train from scratch)
};

/// What this represents: the detection layers of YOLO v1 (Redmon et al. 2016, section 2.1): num_convs 3 x 3
/// convolutions with leaky ReLU on the backbone map, an adaptive average pool to the S x S grid (a no-op when the
/// map already is S x S), then either a 1 x 1 convolution per cell (fully convolutional) or the paper's two fully
/// connected layers (the first with leaky ReLU and dropout). The final layer is linear, as the paper's.
/// Per cell the output holds B groups (x, y, sqrt(w), sqrt(h), confidence) followed by C class values.
/// thread safety: as any torch module.
class YoloV1HeadImpl : public torch::nn::Module {
 public:
  /*  requires: in_channels, grid_size, num_boxes, num_classes, hidden_channels > 0; num_convs, fc_hidden >= 0. */
  explicit YoloV1HeadImpl(const YoloV1HeadOptions& options);
  /*  requires: x N x in_channels x h x w.
      ensures:  N x S x S x (5 B + C), row-major cells (index [n][row][col]). */
  torch::Tensor forward(const torch::Tensor& x);
  const YoloV1HeadOptions& options() const { return options_; }
  int64_t cell_channels() const { return 5 * options_.num_boxes + options_.num_classes; }

 private:
  YoloV1HeadOptions options_;
  torch::nn::Sequential convs_{nullptr};
  torch::nn::Sequential predictor_{nullptr};
};
TORCH_MODULE(YoloV1Head);

}  // namespace detlab
