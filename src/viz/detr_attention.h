// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// DETR's attention figures (Carion et al. 2020): the decoder's attention of each predicted object's query (Fig. 6)
// and the encoder's self-attention at chosen pixels (Fig. 3), on the original image.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "core/types.h"
#include "viz/render.h"
#include "viz/score_model.h"

namespace detlab {

class Detr;

struct DetrAttentionOptions {
  int max_objects = 6;      // the best-scoring queries shown (the paper's Fig. 6 shows a handful)
  double min_score = 0.3;   // ... among those scoring at least this
  /// Encoder reference points in original-image pixels; empty: the centres of the objects shown (Fig. 3 picks
  /// points on objects).
  std::vector<cv::Point2f> points;
  int decoder_layer = -1;  // -1: the last, whose queries make the predictions (as the figures)
  int encoder_layer = -1;  // -1: the last
};

/// One predicted object: its query's attention over the encoder tokens, on the original image.
struct AttendedObject {
  Box image_box;   // original-image pixels
  int label = -1;  // 0..K-1
  float score = 0;
  int64_t query = -1;  // the decoder slot that predicted it
  cv::Mat map;         // CV_32F, original size: attention weight (the token grid upsampled bilinearly)
};

/// One encoder reference point: the self-attention of the token under it, on the original image.
struct AttendedPoint {
  cv::Point2f point;  // original-image pixels
  int64_t token = -1;
  cv::Mat map;        // CV_32F, original size
};

struct DetrAttention {
  std::vector<AttendedObject> objects;  // by score, descending
  std::vector<AttendedPoint> points;
  int64_t grid_height = 0, grid_width = 0;  // the encoder's token grid (the padded input / the feature stride)
  int decoder_layer = 0, encoder_layer = 0;  // the layers shown (0-based)
  int64_t encoder_layers = 0, decoder_layers = 0;
};

/// Runs `model` on one prepared image with attention recording on (outputs are those of an ordinary pass) and
/// returns the maps: for each object, its query's cross-attention in the chosen decoder layer, averaged over
/// the heads; for each point, the chosen encoder layer's self-attention row of the token under it (no map
/// without encoder layers). Objects are DETR's predictions as its post-processing makes them: per query the
/// largest non-"no object" probability, boxes scaled to the image.
/// requires: in.tensor prepared with the model's transform (make_input with a ScoreModel over it), 1 x 3 x H x W.
DetrAttention detr_attention(Detr& model, const ModelInput& in, const DetrAttentionOptions& options);

/// `<stem>_decoder.png`: the image with the objects' boxes, then one overlay per object (Fig. 6), captioned
/// with class, score and query; `<stem>_encoder.png`: one overlay per reference point, the point marked
/// (Fig. 3); and `<stem>.json` (objects, points, layers, grid). Colours: each map from 0 to its own maximum.
void save_detr_attention(const DetrAttention& attention, const ModelInput& in,
                         const std::vector<std::string>& class_names, const std::filesystem::path& dir,
                         const std::string& stem, Colormap colormap);

}  // namespace detlab
