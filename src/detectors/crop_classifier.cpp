// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// CropClassifier: options, training through the engine, model folders, evaluation on crops.
#include "detectors/crop_classifier.h"

#include <torch/nn/module.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/checked.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/progress.h"
#include "features/backbone_type.h"
#include "nn/backbones/make_backbone.h"
#include "nn/losses/cross_entropy.h"
#include "nn/weights/weight_file.h"
#include "tensor/module_weights.h"
#include "pipeline/model_dir.h"
#include "tensor/runtime.h"

namespace detlab {

namespace {

constexpr const char* kType = "crop_classifier";
constexpr const char* kWeightsFile = "model.pt";
constexpr int64_t kPredictBatch = 128;  // crops per forward pass at inference (64 px crops: ~6 MB of input)

TrainOptions default_train() {
  // About a minute on two CPU cores for BCCD (4 x 800 crops of 64 px): AdamW converges from scratch without
  // the warm-up and rate tuning SGD needs at these small batch sizes.
  TrainOptions t;
  t.epochs = 6;
  t.optimizer.type = OptimizerOptions::Type::kAdamW;
  t.optimizer.lr = 2e-3;
  t.optimizer.weight_decay = 1e-4;
  t.schedule.type = ScheduleOptions::Type::kCosine;
  t.loader.batch_size = 64;
  return t;
}

}  // namespace

CropClassifierOptions parse_crop_classifier(const Config& node, const std::vector<std::string>& object_classes) {
  CropClassifierOptions o;
  o.train = default_train();
  if (!node.is_map()) throw InputError(node.file(), node.path(), "expected a map {type: crop_classifier, ...}");
  const std::string type = node.get<std::string>("type", kType);
  if (type != kType) config_error(node, "type", "unknown classifier type '" + type + "' (known: crop_classifier)");
  if (node.has("backbone")) {
    const Config b = node.child("backbone");
    if (!b.is_map()) config_error(node, "backbone", "expected a map naming the backbone: {type: " + o.backbone + "}");
    o.backbone = parse_backbone_type(b, o.backbone);
  }
  o.feature = node.get<std::string>("feature", o.feature);
  if (node.has("crop")) o.crop = parse_crop_options(node.child("crop"));
  if (node.has("input")) o.input = parse_transform(node.child("input"));
  if (node.has("train")) o.train = parse_train_options(node.child("train"));
  o.label_smoothing = node.get<float>("label_smoothing", o.label_smoothing);
  if (!(o.label_smoothing >= 0 && o.label_smoothing < 1)) config_error(node, "label_smoothing", "must be in [0, 1)");
  o.device = node.get<std::string>("device", o.device);
  (void)parse_device(o.device);
  if (object_classes.empty()) config_error(node, "type", "the data set has no classes");
  o.class_names = object_classes;
  o.class_names.push_back("background");
  o.config_hash = node.hash();
  return o;
}

std::string ClassificationReport::table() const {
  std::ostringstream os;
  size_t w = 10;
  for (const auto& n : class_names) w = std::max(w, n.size() + 1);
  os << std::left << std::setw(static_cast<int>(w)) << "class" << std::right << std::setw(8) << "crops"
     << std::setw(10) << "accuracy" << "   predicted as:";
  for (const auto& n : class_names) os << " " << std::setw(static_cast<int>(std::max<size_t>(6, n.size()))) << n;
  os << "\n";
  for (size_t t = 0; t < class_names.size(); ++t) {
    int64_t n = 0;
    for (int64_t c : confusion[t]) n += c;
    os << std::left << std::setw(static_cast<int>(w)) << class_names[t] << std::right << std::setw(8) << n
       << std::setw(10) << std::fixed << std::setprecision(3) << accuracy[t] << "                ";
    for (size_t p = 0; p < class_names.size(); ++p)
      os << " " << std::setw(static_cast<int>(std::max<size_t>(6, class_names[p].size()))) << confusion[t][p];
    os << "\n";
  }
  os << "overall accuracy " << std::fixed << std::setprecision(3) << overall << ", mean per-class accuracy "
     << mean_per_class << "\n";
  return os.str();
}

void ClassificationReport::write_json(const std::filesystem::path& file) const {
  nlohmann::json body;
  body["class_names"] = class_names;
  body["confusion"] = confusion;
  nlohmann::json acc = nlohmann::json::array();
  for (double a : accuracy) acc.push_back(std::isnan(a) ? nlohmann::json(nullptr) : nlohmann::json(a));
  body["accuracy"] = acc;
  body["overall"] = overall;
  body["mean_per_class"] = mean_per_class;
  write_versioned_json(file, "classification", 1, body);
}

CropClassifier::CropClassifier(CropClassifierOptions opts)
    : opts_(std::move(opts)), device_(parse_device(opts_.device)) {
  DETLAB_REQUIRE(opts_.class_names.size() >= 2, opts_.class_names.size());
  net_ = make_classifier_net(opts_.backbone, opts_.feature, static_cast<int64_t>(opts_.class_names.size()));
  net_->to(device_);
}

TransformOptions CropClassifier::input_transform() const {
  TransformOptions t = opts_.input;
  t.fixed_width = t.fixed_height = opts_.crop.size;
  t.size_divisibility = 1;  // every crop has the same size: nothing to pad
  return t;
}

std::map<std::string, torch::Tensor> CropClassifier::losses(const Batch& batch) {
  std::vector<int64_t> labels;
  labels.reserve(batch.targets.size());
  for (const TargetBoxes& t : batch.targets) {
    TORCH_CHECK(t.labels.numel() == 1, "CropClassifier: a crop has one label, got ", t.labels.numel());
    labels.push_back(t.labels.to(torch::kCPU).item<int64_t>());
  }
  const torch::Tensor target = torch::tensor(labels, torch::kLong).to(batch.images.device());
  CrossEntropyOptions ce;
  ce.label_smoothing = opts_.label_smoothing;
  return {{"loss_cls", detlab::cross_entropy_loss(net_->forward(batch.images).logits, target, ce)}};
}

TrainResult CropClassifier::fit(const Dataset& train_set, const EngineContext& ctx) {
  if (opts_.train.epochs <= 0 && opts_.train.iterations <= 0)
    throw InputError("", "classifier.train", "no epochs or iterations");
  const Dataset crops = make_crop_dataset(train_set, opts_.crop, ctx.seed, !ctx.quiet);
  if (crops.images.empty()) throw InputError("", "dataset", "no crops: the training split has no usable boxes");
  net_->to(torch::kCPU);  // the engine moves the module to the training device itself
  const TrainResult result = train(*this, crops, opts_.train, ctx);
  device_ = parse_device(ctx.device);
  net_->to(device_);
  return result;
}

void CropClassifier::to_device(const std::string& device) {
  device_ = parse_device(device);
  net_->to(device_);
}

void CropClassifier::save(const std::filesystem::path& dir) const {
  ModelHeader header;
  header.type = kType;
  header.config_hash = opts_.config_hash;
  header.class_names = opts_.class_names;
  header.files = save_model_files(dir, [&](const std::filesystem::path& tmp) {
    save_weights(*net_, (tmp / kWeightsFile).string());
  });
  write_model_header(dir, header);
}

void CropClassifier::load(const std::filesystem::path& dir) {
  read_model_header(dir, kType, opts_.class_names, opts_.config_hash);
  const std::filesystem::path file = dir / kWeightsFile;
  load_module_weights(*net_, file, "classifier");
  net_->to(device_);
}

torch::Tensor CropClassifier::predict(const std::vector<cv::Mat>& crops) {
  DETLAB_REQUIRE(!crops.empty());
  torch::NoGradGuard no_grad;
  net_->eval();
  const TransformOptions t = input_transform();
  std::vector<torch::Tensor> out;
  for (size_t start = 0; start < crops.size(); start += kPredictBatch) {
    const size_t end = std::min(crops.size(), start + static_cast<size_t>(kPredictBatch));
    const std::vector<cv::Mat> part(crops.begin() + static_cast<std::ptrdiff_t>(start),
                                    crops.begin() + static_cast<std::ptrdiff_t>(end));
    out.push_back(net_->forward(make_eval_batch(part, t).images.to(device_)).logits.to(torch::kCPU));
  }
  return torch::cat(out);
}

ClassificationReport CropClassifier::evaluate(const Dataset& source, uint64_t seed, bool show_progress) {
  CropOptions co = opts_.crop;
  co.per_class = 0;  // natural class frequencies: the accuracy a user meets on real crops
  const Dataset crops = make_crop_dataset(source, co, seed, show_progress);
  ClassificationReport r;
  r.class_names = opts_.class_names;
  const size_t k = r.class_names.size();
  r.confusion.assign(k, std::vector<int64_t>(k, 0));
  if (!crops.images.empty()) {
    std::vector<cv::Mat> pixels;
    for (size_t i = 0; i < crops.images.size(); ++i) pixels.push_back(crops.load_image(i));
    const torch::Tensor pred = predict(pixels).argmax(1).contiguous();
    const int64_t* p = pred.data_ptr<int64_t>();
    for (size_t i = 0; i < crops.images.size(); ++i) {
      const int t = crop_label(crops.images[i]);
      DETLAB_CHECK(t >= 0 && static_cast<size_t>(t) < k, t, k);
      ++r.confusion[static_cast<size_t>(t)][static_cast<size_t>(p[i])];
    }
  }
  int64_t correct = 0, total = 0, defined = 0;
  double sum = 0;
  for (size_t t = 0; t < k; ++t) {
    int64_t n = 0;
    for (int64_t c : r.confusion[t]) n += c;
    correct += r.confusion[t][t];
    total += n;
    r.accuracy.push_back(n > 0 ? static_cast<double>(r.confusion[t][t]) / n : std::numeric_limits<double>::quiet_NaN());
    if (n > 0) {
      sum += r.accuracy.back();
      ++defined;
    }
  }
  r.overall = total > 0 ? static_cast<double>(correct) / total : 0.0;
  r.mean_per_class = defined > 0 ? sum / defined : 0.0;
  return r;
}

std::unique_ptr<CropClassifier> build_crop_classifier(const Config& node,
                                                      const std::vector<std::string>& object_classes) {
  CropClassifierOptions o = parse_crop_classifier(node, object_classes);
  node.expect_consumed();
  try {
    return std::make_unique<CropClassifier>(std::move(o));
  } catch (const c10::Error& e) {  // e.g. a feature the backbone does not have
    throw InputError(node.file(), node.path(), e.what_without_backtrace());
  }
}

bool is_crop_classifier_folder(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / kModelHeaderFile;
  if (!std::filesystem::exists(file)) return false;
  try {
    return nlohmann::json::parse(read_file(file)).value("type", std::string()) == kType;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace detlab
