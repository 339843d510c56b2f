// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// NetworkDetector: a Detector (and Trainable) over any DetectionModel: preprocessing, device, training, saving.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "nn/detection/detection_model.h"
#include "nn/weights/state_dict.h"
#include "pipeline/detector.h"
#include "train/engine.h"
#include "tensor/transform.h"

namespace detlab {

struct NetworkDetectorOptions {
  std::string type;                      // registry name: model header type and result-table row key
  std::vector<std::string> class_names;  // label order (from the data set)
  std::string config_hash;               // Config::hash() of the detector node (model header)
  TransformOptions transform;            // resize / normalize / pad, shared by training and inference
  TrainOptions train;                    // the `train` node
  int max_per_image = 100;               // detections kept per image after the model's own post-processing
  std::string device = "cpu";            // inference device until fit() picks the training device
  std::string weights;                   // optional initial weights of the whole model (a state dict file)
  LoadOptions weights_load;              // how `weights` maps onto the model (prefix renames, strictness)
};

/// Reads the keys every deep detector shares from its config node: `input` (parse_transform), `train`
/// (parse_train_options), `max_per_image`, `device`, `weights`. Other keys are left to the family's parser.
/// `defaults` supplies the family's defaults for what the node does not set.
NetworkDetectorOptions parse_network_detector(const Config& node, const std::vector<std::string>& class_names,
                                              NetworkDetectorOptions defaults);

/// What this represents: the bridge between the torch world (a DetectionModel taking normalized tensors) and
/// the harness (a Detector taking BGR images and returning pixel boxes). detect() resizes and normalizes the
/// image with the same TransformOptions the training loader uses, runs the network, and maps boxes back to
/// original pixels (tensor/transform.h to_original). fit() runs the training engine (train/engine.h).
/// Saved folders hold detector.json (pipeline/model_dir.h) and model.pt (a state dict PyTorch can load).
/// thread safety: none; one detect() or fit() at a time.
class NetworkDetector : public Detector, public Trainable {
 public:
  NetworkDetector(std::shared_ptr<DetectionModel> model, NetworkDetectorOptions opts);

  // Detector
  Detections detect(const Image& image, StageTimes* times) override;
  using Detector::detect;
  std::string_view name() const override { return opts_.type; }
  int num_classes() const override { return static_cast<int>(opts_.class_names.size()); }
  void fit(const TrainContext& ctx) override;
  void save(const std::filesystem::path& dir) const override;
  void load(const std::filesystem::path& dir) override;
  int64_t num_parameters() const override;

  // Trainable
  torch::nn::Module& module() override { return *model_; }
  TransformOptions input_transform() const override { return opts_.transform; }
  std::map<std::string, torch::Tensor> losses(const Batch& batch) override;
  double lr_multiplier(const std::string& param_name) const override { return model_->lr_multiplier(param_name); }

  /// Runs inference on `device` from now on ("cpu", "cuda", "cuda:1").
  void to_device(const std::string& device);
  const std::shared_ptr<DetectionModel>& model() const { return model_; }
  const NetworkDetectorOptions& options() const { return opts_; }

 private:
  std::shared_ptr<DetectionModel> model_;
  NetworkDetectorOptions opts_;
  torch::Device device_;
};

}  // namespace detlab
