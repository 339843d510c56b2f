// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// The gallery: every method on a few images of a data set, for a classifier and / or a detector, in one folder.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "viz/class_image.h"
#include "viz/classifier_view.h"
#include "viz/detection_target.h"
#include "viz/detr_attention.h"
#include "viz/figures.h"
#include "viz/occlusion.h"
#include "viz/saliency.h"
#include "viz/tsne.h"

namespace detlab {

struct GalleryOptions {
  FigureOptions figure;
  std::string target;               // classifier: the class explained on every image ("" = its best class)
  std::string activation_layer;     // "" = the layer before the last (twice the resolution of the last)
  int top_patch_images = 0;         // images searched for top patches (0 = every image of the split)
  int top_patch_max = 64;           // patch side cap (network-input pixels): deep cells' theoretical fields span
                                    // the whole image, their effective fields (Luo et al. 2016) far less
  int embedding_max_per_class = 300;  // t-SNE points per class (a readable plot, exact t-SNE in seconds)
  OcclusionOptions occlusion;
  SaliencyOptions smoothgrad = smoothgrad_defaults();
  ClassImageOptions class_image;
  int class_image_size = 96;        // classifier: side of the optimized image (1.5 crops: room for context)
  TsneOptions tsne;
  DetrAttentionOptions attention;
  uint64_t seed = 0;

  static SaliencyOptions smoothgrad_defaults() {
    SaliencyOptions s;
    s.samples = 25;  // Smilkov et al.: the map stabilizes after a few tens of samples
    return s;
  }
};

/// What the gallery wrote and how long each method took (seconds, summed over images).
struct GalleryReport {
  std::vector<std::pair<std::string, std::string>> pictures;  // file name (in the folder), caption
  std::map<std::string, double> seconds;
  std::map<std::string, int> runs;
};

/// Classifier pictures into out/classifier: filters, top patches (last layer), t-SNE of crop embeddings, one class
/// image per class; per image: activations, CAM and Grad-CAM of every object class, saliency, SmoothGrad and
/// occlusion of the target class. `show` are the images drawn, `pool` those searched (top patches, t-SNE).
GalleryReport render_classifier_gallery(const ClassifierView& classifier, const Dataset& data,
                                        const std::vector<int>& show, const std::vector<int>& pool,
                                        const std::filesystem::path& out, const GalleryOptions& opts);

/// Detector pictures into out/<name>: filters, top patches (finest level), t-SNE of RoIAlign region features of
/// ground-truth boxes; per image: activations and, for its best detection, Grad-CAM (its level), saliency,
/// SmoothGrad, occlusion and gradient ascent from the image.
GalleryReport render_detector_gallery(DetectionExplainer& detector, const std::string& name, const Dataset& data,
                                      const std::vector<int>& show, const std::vector<int>& pool,
                                      const std::filesystem::path& out, const GalleryOptions& opts);

/// DETR's attention pictures into out/<name> (beside its detector pictures): per image the attention figures
/// (viz/detr_attention.h: each predicted object's decoder attention, the encoder's attention at their centres).
/// `input_model` prepares the images with the DETR's transform (its explainer).
GalleryReport render_detr_gallery(Detr& detr, ScoreModel& input_model, const std::vector<std::string>& class_names,
                                  const std::string& name, const Dataset& data, const std::vector<int>& show,
                                  const std::filesystem::path& out, const GalleryOptions& opts);

/// out/index.md: every picture with its caption, then the time per method.
void write_gallery_index(const std::filesystem::path& out, const std::vector<std::pair<std::string, GalleryReport>>& parts);

}  // namespace detlab
