// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// CropClassifier: a backbone + GAP + linear classifier trained on box crops (the network the viz/ methods study).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "data/crops.h"
#include "data/dataset.h"
#include "nn/classification/classifier_net.h"
#include "tensor/transform.h"
#include "train/engine.h"
#include "viz/classifier_view.h"

namespace detlab {

struct CropClassifierOptions {
  std::string backbone = "small_resnet";  // make_backbone name; from scratch on a CPU in about a minute
  std::string feature;                    // the map global average pooling reads; "" = the deepest tap
  CropOptions crop;
  TransformOptions input = image_defaults();  // whole images (visualization); crops share its normalization
  TrainOptions train;
  float label_smoothing = 0.f;            // cross-entropy label smoothing (Szegedy et al. 2016); 0 = off
  std::string device = "cpu";
  std::vector<std::string> class_names;   // the data set's classes, then "background" (the last label)
  std::string config_hash;                // Config::hash() of the classifier node (model header)

  /// Whole images keep their aspect ratio with the shorter side at 240 px, as a 640 x 480 BCCD image halved:
  /// the scale at which a red cell (~100 px) is about as large as in its 64 px crop.
  static TransformOptions image_defaults() {
    TransformOptions t;
    t.min_size = 240;
    t.max_size = 1000;
    return t;
  }
};

/// Reads a `classifier` node: type (crop_classifier, optional), backbone {type}, feature, crop {..}
/// (parse_crop_options), input {..} (parse_transform; whole-image preprocessing), train {..}
/// (parse_train_options), label_smoothing, device. InputError naming the dotted key on a bad value.
CropClassifierOptions parse_crop_classifier(const Config& node, const std::vector<std::string>& object_classes);

/// Accuracy of a classifier on labelled crops.
struct ClassificationReport {
  std::vector<std::string> class_names;
  std::vector<std::vector<int64_t>> confusion;  // [true label][predicted label]
  std::vector<double> accuracy;                 // per class: correct / crops of that class (recall); NaN if none
  double overall = 0;                           // correct / all crops
  double mean_per_class = 0;                    // mean of the defined per-class accuracies

  /// A text table: class, crops, accuracy, then the confusion matrix.
  std::string table() const;
  /// Writes {"format": "classification", "format_version": 1, class_names, confusion, accuracy, overall,
  /// mean_per_class} atomically.
  void write_json(const std::filesystem::path& file) const;
};

/// What this represents: the classification training path of the toolkit: crops of ground-truth boxes (and
/// background crops) -> backbone -> global average pooling -> linear layer (ClassifierNet), trained with the
/// detectors' engine (train/engine.h: same loader, optimizers, schedules, checkpoints, train_log.csv). It is
/// the "classifier to look at" of viz/: no pretrained weights are downloaded, so every network is trained here.
/// Model folders hold detector.json (pipeline/model_dir.h; type "crop_classifier", class names with
/// "background" last) and model.pt (a state dict: backbone.*, fc.*).
/// thread safety: none; one call at a time.
class CropClassifier : public Trainable {
 public:
  /*  requires: opts.class_names has >= 2 names (at least one class and background). */
  explicit CropClassifier(CropClassifierOptions opts);

  /// Crops train_set (make_crop_dataset with the options' seed = ctx.seed) and trains with the engine.
  TrainResult fit(const Dataset& train_set, const EngineContext& ctx);
  void save(const std::filesystem::path& dir) const;
  /// InputError naming the file when the folder is missing or does not fit this classifier.
  void load(const std::filesystem::path& dir);

  /*  requires: crops non-empty, each CV_8UC3 (any size: warped to crop.size).
      ensures: crops.size() x num_classes() logits on the CPU. */
  torch::Tensor predict(const std::vector<cv::Mat>& crops);
  /// Crops `source` as for training (no resampling; background crops seeded by seed) and scores the predictions.
  ClassificationReport evaluate(const Dataset& source, uint64_t seed, bool show_progress = true);

  // Trainable
  torch::nn::Module& module() override { return *net_; }
  /// The crop transform: fixed crop.size x crop.size, the options' normalization, no padding.
  TransformOptions input_transform() const override;
  /// {"loss_cls": cross entropy of the logits against each crop's label}.
  std::map<std::string, torch::Tensor> losses(const Batch& batch) override;

  void to_device(const std::string& device);
  torch::Device device() const { return device_; }
  const std::shared_ptr<ClassifierNet>& net() const { return net_; }
  const CropClassifierOptions& options() const { return opts_; }
  int num_classes() const { return static_cast<int>(opts_.class_names.size()); }
  /// How whole images become network input (viz/): options().input.
  const TransformOptions& image_transform() const { return opts_.input; }
  /// The trained network and its inputs as the visualization methods take them (viz/ sits below train/).
  ClassifierView view() const {
    return {net_, opts_.input, input_transform(), opts_.crop, opts_.class_names, device_};
  }

 private:
  CropClassifierOptions opts_;
  std::shared_ptr<ClassifierNet> net_;
  torch::Device device_;
};

/// parse_crop_classifier + the classifier; c10 errors of the modules (an unknown feature) become InputErrors
/// naming the node.
std::unique_ptr<CropClassifier> build_crop_classifier(const Config& node,
                                                      const std::vector<std::string>& object_classes);

/// True for a model folder written by CropClassifier::save (its header's type is crop_classifier).
bool is_crop_classifier_folder(const std::filesystem::path& dir);

}  // namespace detlab
