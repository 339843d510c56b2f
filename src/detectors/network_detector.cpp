// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// NetworkDetector: preprocessing, inference with box mapping, training through the engine, model folders.
#include "detectors/network_detector.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>

#include "core/box_ops.h"
#include "core/error.h"
#include "data/dataset.h"
#include "nn/backbones/make_backbone.h"
#include "nn/weights/weight_file.h"
#include "tensor/module_weights.h"
#include "pipeline/model_dir.h"
#include "tensor/runtime.h"
#include "pipeline/runtime.h"

namespace detlab {

namespace {

constexpr const char* kWeightsFile = "model.pt";

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

NetworkDetectorOptions parse_network_detector(const Config& node, const std::vector<std::string>& class_names,
                                              NetworkDetectorOptions defaults) {
  NetworkDetectorOptions o = std::move(defaults);
  o.type = node.get<std::string>("type");
  o.class_names = class_names;
  o.config_hash = node.hash();
  if (node.has("input")) o.transform = parse_transform(node.child("input"));
  if (node.has("train")) o.train = parse_train_options(node.child("train"));
  o.max_per_image = node.get<int>("max_per_image", o.max_per_image);
  o.device = node.get<std::string>("device", o.device);
  o.weights = node.get<std::string>("weights", o.weights);
  if (o.max_per_image <= 0) throw InputError(node.file(), node.child_path("max_per_image"), "must be positive");
  (void)parse_device(o.device);  // reject a misspelled device at build time, not after training
  return o;
}

NetworkDetector::NetworkDetector(std::shared_ptr<DetectionModel> model, NetworkDetectorOptions opts)
    : model_(std::move(model)), opts_(std::move(opts)), device_(parse_device(opts_.device)) {
  DETLAB_REQUIRE(model_ != nullptr);
  DETLAB_REQUIRE(model_->num_classes() == static_cast<int64_t>(opts_.class_names.size()), model_->num_classes(),
                 opts_.class_names.size());
  if (!opts_.weights.empty()) {
    load_module_weights(*model_, opts_.weights, "detector", opts_.weights_load);
  }
  model_->to(device_);
}

void NetworkDetector::to_device(const std::string& device) {
  device_ = parse_device(device);
  model_->to(device_);
}

Detections NetworkDetector::detect(const Image& image, StageTimes* times) {
  DETLAB_REQUIRE(!image.bgr.empty() && image.bgr.type() == CV_8UC3, image.id);
  const ScopedNetworkThreads network_threads;
  torch::NoGradGuard no_grad;
  model_->eval();

  auto start = std::chrono::steady_clock::now();
  Batch batch = make_eval_batch({image.bgr}, opts_.transform);
  torch::Tensor input = batch.images.to(device_);
  const ImageMeta& meta = batch.meta[0];
  if (times) times->emplace_back("preprocess", ms_since(start));

  NetTimes net_times;
  const std::vector<NetDetections> out = model_->detect(input, {ImageSize{meta.height, meta.width}}, &net_times);
  if (times) times->insert(times->end(), net_times.begin(), net_times.end());
  DETLAB_CHECK(out.size() == 1, out.size());

  start = std::chrono::steady_clock::now();
  const torch::Tensor boxes = to_original(out[0].boxes.to(torch::kCPU, torch::kFloat).contiguous(), meta);
  const torch::Tensor scores = out[0].scores.to(torch::kCPU, torch::kFloat).contiguous();
  const torch::Tensor labels = out[0].labels.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t n = boxes.size(0);
  const float* b = boxes.data_ptr<float>();
  const float* s = scores.data_ptr<float>();
  const int64_t* l = labels.data_ptr<int64_t>();
  Detections dets;
  dets.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    DETLAB_CHECK(l[i] >= 0 && l[i] < num_classes(), "label out of range", l[i], num_classes());
    dets.push_back({Box{b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]}, static_cast<int>(l[i]), s[i]});
  }
  // The network sorts per image already; a stable sort keeps its order for ties and guards other models.
  std::stable_sort(dets.begin(), dets.end(), [](const Detection& x, const Detection& y) { return x.score > y.score; });
  if (static_cast<int>(dets.size()) > opts_.max_per_image) dets.resize(static_cast<size_t>(opts_.max_per_image));
  if (times) times->emplace_back("post", ms_since(start));
  return dets;
}

std::map<std::string, torch::Tensor> NetworkDetector::losses(const Batch& batch) {
  std::vector<ImageSize> sizes;
  std::vector<NetTarget> targets;
  sizes.reserve(batch.meta.size());
  targets.reserve(batch.targets.size());
  for (const ImageMeta& m : batch.meta) sizes.push_back({m.height, m.width});
  for (const TargetBoxes& t : batch.targets) targets.push_back({t.boxes, t.labels});
  return model_->losses(batch.images, sizes, targets);
}

void NetworkDetector::fit(const TrainContext& ctx) {
  DETLAB_REQUIRE(ctx.train != nullptr);
  if (opts_.train.epochs <= 0 && opts_.train.iterations <= 0)
    throw InputError("", "detector.train", "this detector has no `train` section (epochs or iterations)");
  model_->to(torch::kCPU);  // the engine moves the module to the training device itself
  const TrainResult result = train(*this, *ctx.train, opts_.train, make_engine_context(ctx));
  (void)result;
  device_ = parse_device(ctx.device);
  model_->to(device_);
}

void NetworkDetector::save(const std::filesystem::path& dir) const {
  ModelHeader header;
  header.type = opts_.type;
  header.config_hash = opts_.config_hash;
  header.class_names = opts_.class_names;
  header.files = save_model_files(dir, [&](const std::filesystem::path& tmp) {
    save_weights(*model_, (tmp / kWeightsFile).string());
  });
  write_model_header(dir, header);
}

void NetworkDetector::load(const std::filesystem::path& dir) {
  read_model_header(dir, opts_.type, opts_.class_names, opts_.config_hash);
  const std::filesystem::path file = dir / kWeightsFile;
  load_module_weights(*model_, file, "detector");
  model_->to(device_);
}

int64_t NetworkDetector::num_parameters() const { return count_parameters(*model_); }

}  // namespace detlab
