// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// Detection targets: one chosen detection of a detector as the score the visualization methods explain.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "nn/detection/detection_model.h"
#include "viz/heatmap.h"
#include "viz/score_model.h"

namespace detlab {

/// One detection of a detector with the handle that ties it to the network's outputs.
struct ExplainedDetection {
  Box box;                 // network-input pixels
  Box image_box;           // original-image pixels
  int label = -1;          // 0..K-1
  float score = 0;         // as the detector reports it
  int level = -1;          // index into layers() of the map that produced it (its anchor's / proposal's level)
  int64_t index = -1;      // dense families: the anchor within its level; two-stage: the proposal's row
  torch::Tensor proposal;  // two-stage: the proposal (1 x 4, network pixels) the box head scored
  torch::Tensor queries;   // DETR with two-stage query selection: the encoder token of each query (1 x Q)
  int64_t image_height = 0, image_width = 0;  // the unpadded network-input size it was found in
  std::string name;        // "WBC 0.93 @ 212,140,330,251" (original pixels)
};

/// What this represents: a detector seen as a ScoreModel. Before select() it has no scores (the methods that
/// only read layers work); after select(d) its one score is d's score exactly as the detector computes it --
/// the sigmoid of the class logit at d's anchor (RetinaNet), the softmax class probability at d's default box
/// (SSD), the box head's softmax probability of d's class for d's proposal (Faster R-CNN), the class-specific
/// confidence of d's cell and box (YOLO v1), the class probability of d's object query (DETR; with two-stage query
/// selection the query keeps the encoder token it was selected from) -- as a function of the input image, so that
/// gradients (Grad-CAM, saliency, gradient ascent) and perturbations (occlusion) explain that one box. The anchor /
/// proposal / query stays fixed while the input changes (Grad-CAM for detectors as in its paper's captioning extension; occlusion then
/// measures what that box's evidence depends on). Layers: the maps the detector's heads read.
/// requires for forward() after select(): inputs of the same H x W as the one the detection came from.
/// thread safety: one call at a time.
class DetectionExplainer : public ScoreModel {
 public:
  /// The detector's detections on one prepared image, sorted by score (descending), with their handles.
  virtual std::vector<ExplainedDetection> detections(const ModelInput& in) = 0;
  /// The family ("retinanet", "ssd", "faster_rcnn", "yolo", "detr"; "staged" for staged pipelines).
  virtual std::string family() const = 0;

  /*  Grad-CAM of the selected detection for explainers whose score reads one region through features of its
      own rather than a map of the whole input (staged pipelines without a shared network: HOG + SVM, R-CNN's
      crops; dlib's FHOG): the exact per-cell terms of its linear score (viz/heatmap.h: region_cells_map) over
      the input pixels (Grid::kInput). nullopt when the explainer has layers (viz/grad_cam.h covers it).
      throws InputError when it has neither, naming why.  requires: a detection is selected.  */
  virtual std::optional<Heatmap> region_grad_cam(const torch::Tensor& input) { return std::nullopt; }

  void select(const ExplainedDetection& d, int64_t input_height, int64_t input_width);
  void clear_selection() { selected_.reset(); }
  const std::optional<ExplainedDetection>& selected() const { return selected_; }

  std::vector<std::string> score_names() const override;
  std::string default_layer() const override;
  torch::Tensor forward(const torch::Tensor& input, TapMap* maps) override;
  std::vector<std::string> layers() const override { return layers_; }
  const TransformOptions& transform() const override { return transform_; }
  torch::Device device() const override { return device_; }

 protected:
  /// layers: the maps the detector's heads read (the backbone's maps by stride, finest first).
  DetectionExplainer(TransformOptions transform, std::vector<std::string> class_names, torch::Device device,
                     std::vector<std::string> layers);

  /// maps for every layer (if maps) and, when `target` is set, the N scores of that detection.
  virtual torch::Tensor run(const torch::Tensor& input, TapMap* maps, const ExplainedDetection* target) = 0;

  /// The detector's detections (network pixels, its own label columns) as ExplainedDetections, in order:
  /// label_of(column) gives the data set's label (< 0: drop the detection), locate(d, column) sets d.index and
  /// d.level (and d.proposal); image_box, image size and name are filled from `meta`.
  using LocateFn = std::function<void(ExplainedDetection& d, int64_t column)>;
  std::vector<ExplainedDetection> explain(const NetDetections& dets, const ImageMeta& meta,
                                          const std::function<int(int64_t column)>& label_of,
                                          const LocateFn& locate) const;

 private:
  TransformOptions transform_;
  std::vector<std::string> class_names_;
  torch::Device device_;
  std::vector<std::string> layers_;
  std::optional<ExplainedDetection> selected_;
  int64_t height_ = 0, width_ = 0;
};

/// The explainer for a detection network: RetinaNet, SSD, Faster R-CNN, YOLO v1 and DETR are supported; other
/// networks give nullptr (their backbones still serve the layer-only methods through BackboneScoreModel).
std::unique_ptr<DetectionExplainer> make_detection_explainer(std::shared_ptr<DetectionModel> model,
                                                             const TransformOptions& transform,
                                                             std::vector<std::string> class_names,
                                                             torch::Device device);

/// Index of the candidate matching a reported detection: the row whose box (K x 4) and score (K) are closest
/// (score difference first: the detector copied both from these tensors, so one row matches exactly).
int64_t match_candidate(const torch::Tensor& boxes, const torch::Tensor& scores, const Box& box, float score);

}  // namespace detlab
