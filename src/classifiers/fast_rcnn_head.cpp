// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// fast_rcnn_head classifier stage (see fast_rcnn_head.h).
#include "classifiers/fast_rcnn_head.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <algorithm>
#include <mutex>
#include <random>

#include "config/checked.h"
#include "core/box_ops.h"
#include "core/error.h"
#include "pipeline/registries.h"
#include "core/progress.h"
#include "nn/weights/weight_file.h"
#include "tensor/module_weights.h"
#include "pipeline/host_box_coder.h"
#include "pipeline/torch_stage.h"
#include "pipeline/training.h"

namespace detlab {

namespace {

constexpr const char* kWeightsFile = "fast_rcnn_head.pt";

/// The head's modules under the names torchvision's RoIHeads gives them (box_head, box_predictor).
class HeadModule : public torch::nn::Module {
 public:
  explicit HeadModule(const FastRcnnHeadOptions& o) {
    int64_t in = 1;
    for (int64_t d : o.in_shape) in *= d;
    int64_t width = in;
    if (o.representation_size > 0) {
      TwoMlpHeadOptions h;
      h.in_features = in;
      h.representation_size = o.representation_size;
      box_head = register_module("box_head", TwoMlpHead(h));
      width = o.representation_size;
    }
    FastRcnnPredictorOptions p;
    p.in_channels = width;
    p.num_classes = o.num_classes + 1;
    box_predictor = register_module("box_predictor", FastRcnnPredictor(p));
  }
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x) {
    return box_predictor->forward(box_head.is_empty() ? x.flatten(1) : box_head->forward(x));
  }
  TwoMlpHead box_head{nullptr};
  FastRcnnPredictor box_predictor{nullptr};
};

/// RoIs of one training image for standalone training: features, labels (0 = background), targets.
struct Samples {
  std::vector<float> x;
  std::vector<int64_t> y;
  std::vector<float> t;
};

class FastRcnnHead final : public ClassifierStage, public TorchClassifierStage {
 public:
  explicit FastRcnnHead(const FastRcnnHeadOptions& o) : opts_(o) {
    net_ = std::make_shared<HeadModule>(o);
    net_->eval();
  }

  std::string_view name() const override { return "fast_rcnn_head"; }
  int num_classes() const override { return opts_.num_classes; }
  int64_t num_parameters() const override {
    int64_t n = 0;
    for (const auto& p : net_->parameters()) n += p.numel();
    return n;
  }
  TwoMlpHead box_head() const override { return net_->box_head; }
  FastRcnnPredictor box_predictor() const override { return net_->box_predictor; }
  const RoiHeadsOptions& roi_heads_options() const override { return opts_.roi_heads; }
  void mark_trained() override { trained_ = true; }

  RegionScores classify(const RegionFeatures& f) override {
    const int n = f.rows(), k = opts_.num_classes;
    RegionScores out;
    out.scores.create(n, k + 1, CV_32F);
    out.deltas.create(n, 4 * k, CV_32F);
    if (n == 0) return out;
    torch::NoGradGuard no_grad;
    if (net_->is_training()) net_->eval();  // after training
    torch::Tensor x;
    if (f.device) {
      x = f.device->to(device());
    } else {
      DETLAB_REQUIRE(f.host.type() == CV_32F && f.host.isContinuous(), "fast_rcnn_head needs CV_32F rows");
      x = torch::from_blob(const_cast<float*>(f.host.ptr<float>()), {f.host.rows, f.host.cols}, torch::kFloat)
              .to(device());
    }
    auto [logits, deltas] = net_->forward(x);
    const torch::Tensor scores = torch::softmax(logits, 1).to(torch::kCPU).contiguous();
    // Deltas of classes 1..K in unit box-coder weights (see the header).
    const auto& w = opts_.roi_heads.box_weights;
    const torch::Tensor unit = torch::tensor({1.0 / w[0], 1.0 / w[1], 1.0 / w[2], 1.0 / w[3]}, torch::kFloat);
    const torch::Tensor d = (deltas.to(torch::kCPU).view({n, k + 1, 4}).slice(1, 1) * unit).contiguous();
    std::copy(scores.data_ptr<float>(), scores.data_ptr<float>() + scores.numel(), out.scores.ptr<float>());
    std::copy(d.data_ptr<float>(), d.data_ptr<float>() + d.numel(), out.deltas.ptr<float>());
    return out;
  }

  void fit(const ClassifierTrainContext& ctx) override;

  void save(const std::filesystem::path& dir) const override { save_weights(*net_, (dir / kWeightsFile).string()); }

  void load(const std::filesystem::path& dir) override {
    const std::filesystem::path file = dir / kWeightsFile;
    load_module_weights(*net_, file, "head");
    net_->eval();
    trained_ = true;
  }

 private:
  torch::Device device() const { return net_->box_predictor->cls_score->weight.device(); }
  Samples sample_image(TrainingImage& img, uint64_t seed) const;

  FastRcnnHeadOptions opts_;
  std::shared_ptr<HeadModule> net_;
  bool trained_ = false;
};

Samples FastRcnnHead::sample_image(TrainingImage& img, uint64_t seed) const {
  const RoiHeadsOptions& r = opts_.roi_heads;
  const ImageRecord& rec = img.record();
  Proposals regions = img.proposals();
  std::vector<const Object*> gts;
  for (const Object& o : rec.objects)
    if (!o.difficult && !o.crowd) gts.push_back(&o);
  if (r.add_gt_proposals)
    for (const Object* o : gts) regions.push_back({o->box, 1.f});
  std::vector<int> pos, neg;
  std::vector<int> best(regions.size(), -1);
  for (size_t i = 0; i < regions.size(); ++i) {
    float top = 0.f;
    for (size_t g = 0; g < gts.size(); ++g) {
      const float v = iou(regions[i].box, gts[g]->box);
      if (v > top) top = v, best[i] = static_cast<int>(g);
    }
    if (top >= r.fg_iou_thresh) pos.push_back(static_cast<int>(i));
    else if (top < r.bg_iou_thresh && top >= r.bg_iou_lo) neg.push_back(static_cast<int>(i));
  }
  std::mt19937_64 rng(seed);
  std::shuffle(pos.begin(), pos.end(), rng);
  std::shuffle(neg.begin(), neg.end(), rng);
  const size_t npos = std::min(pos.size(), static_cast<size_t>(r.batch_size_per_image * r.positive_fraction));
  const size_t nneg = std::min(neg.size(), static_cast<size_t>(r.batch_size_per_image) - npos);
  pos.resize(npos);
  neg.resize(nneg);
  Proposals chosen;
  Samples s;
  HostBoxCoder coder;
  for (int j = 0; j < 4; ++j) coder.weights[j] = static_cast<float>(r.box_weights[j]);
  for (int i : pos) {
    chosen.push_back(regions[i]);
    s.y.push_back(gts[best[i]]->label + 1);
    const Box& p = regions[i].box;
    const auto t = p.width() > 0 && p.height() > 0 ? coder.encode(p, gts[best[i]]->box) : std::array<float, 4>{};
    s.t.insert(s.t.end(), t.begin(), t.end());
  }
  for (int i : neg) {
    chosen.push_back(regions[i]);
    s.y.push_back(0);
    s.t.insert(s.t.end(), 4, 0.f);
  }
  if (chosen.empty()) return s;
  const RegionFeatures f = img.features(chosen);
  cv::Mat rows = f.host;
  if (f.device) {
    const torch::Tensor t = f.device->to(torch::kCPU).flatten(1).contiguous();
    rows = cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_32F, t.data_ptr<float>()).clone();
  }
  DETLAB_REQUIRE(rows.rows == static_cast<int>(chosen.size()), "one feature row per region", rows.rows, chosen.size());
  for (int i = 0; i < rows.rows; ++i) s.x.insert(s.x.end(), rows.ptr<float>(i), rows.ptr<float>(i) + rows.cols);
  return s;
}

void FastRcnnHead::fit(const ClassifierTrainContext& ctx) {
  if (trained_) return;  // trained with the pipeline's torch stages
  DETLAB_REQUIRE(ctx.source != nullptr, "ClassifierTrainContext::source is required");
  RegionSource& src = *ctx.source;
  std::vector<int> all(static_cast<size_t>(src.num_images()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  std::vector<Samples> per_image(all.size());
  src.for_each(all, "fast_rcnn_head: sample RoIs", [&](TrainingImage& img) {
    per_image[img.index()] = sample_image(img, ctx.seed * 1000003u + static_cast<uint64_t>(img.index()));
  });
  int64_t in = 1;
  for (int64_t d : opts_.in_shape) in *= d;
  std::vector<float> xs, ts;
  std::vector<int64_t> ys;
  for (const Samples& s : per_image) {
    DETLAB_REQUIRE(s.x.size() == s.y.size() * static_cast<size_t>(in), "feature rows of", in, "values expected");
    xs.insert(xs.end(), s.x.begin(), s.x.end());
    ys.insert(ys.end(), s.y.begin(), s.y.end());
    ts.insert(ts.end(), s.t.begin(), s.t.end());
  }
  const int64_t n = static_cast<int64_t>(ys.size());
  if (n == 0) throw InputError("", "fast_rcnn_head", "no training RoIs: the proposals overlap no object or background");
  const torch::Tensor x = torch::from_blob(xs.data(), {n, in}, torch::kFloat).clone();
  const torch::Tensor y = torch::from_blob(ys.data(), {n}, torch::kLong).clone();
  const torch::Tensor t = torch::from_blob(ts.data(), {n, 4}, torch::kFloat).clone();

  // A private stream for the epoch shuffles: the process's global generator belongs to the command (its one
  // runtime step seeds it), not to a stage.
  at::Generator shuffle = at::detail::createCPUGenerator(ctx.seed);
  net_->train();
  torch::optim::SGD sgd(net_->parameters(),
                        torch::optim::SGDOptions(opts_.lr).momentum(0.9).weight_decay(opts_.weight_decay));
  ProgressBar bar("fast_rcnn_head: train", opts_.epochs, "epoch");
  for (int e = 0; e < opts_.epochs; ++e) {
    const torch::Tensor perm = torch::randperm(n, shuffle, torch::TensorOptions(torch::kLong));
    for (int64_t i = 0; i < n; i += opts_.batch_size) {
      const torch::Tensor idx = perm.slice(0, i, std::min(n, i + opts_.batch_size));
      auto [logits, deltas] = net_->forward(x.index_select(0, idx));
      const auto losses = fast_rcnn_loss(logits, deltas, {y.index_select(0, idx)}, {t.index_select(0, idx)},
                                         opts_.roi_heads.box_loss_beta);
      torch::Tensor total = torch::zeros({});
      for (const auto& kv : losses) total = total + kv.second;
      sgd.zero_grad();
      total.backward();
      sgd.step();
    }
    bar.tick();
  }
  bar.finish();
  net_->eval();
  trained_ = true;
}

}  // namespace

RoiHeadsOptions parse_roi_sampling(const Config& node, const RoiHeadsOptions& defaults) {
  RoiHeadsOptions r = defaults;
  r.batch_size_per_image = node.get<int64_t>("batch_size_per_image", r.batch_size_per_image);
  r.positive_fraction = node.get<double>("positive_fraction", r.positive_fraction);
  r.fg_iou_thresh = node.get<double>("fg_iou", r.fg_iou_thresh);
  r.bg_iou_thresh = node.get<double>("bg_iou", r.bg_iou_thresh);
  r.bg_iou_lo = node.get<double>("bg_iou_lo", r.bg_iou_lo);
  r.add_gt_proposals = node.get<bool>("add_gt_proposals", r.add_gt_proposals);
  if (r.batch_size_per_image <= 0) config_error(node, "batch_size_per_image", "must be positive");
  if (!(r.positive_fraction > 0 && r.positive_fraction <= 1)) {
    config_error(node, "positive_fraction", "must be in (0, 1]");
  }
  if (!(r.bg_iou_lo >= 0 && r.bg_iou_lo <= r.bg_iou_thresh && r.bg_iou_thresh <= r.fg_iou_thresh &&
        r.fg_iou_thresh <= 1))
    config_error(node, "fg_iou", "need 0 <= bg_iou_lo <= bg_iou <= fg_iou <= 1");
  return r;
}

FastRcnnHeadOptions parse_fast_rcnn_head(const Config& node, const BuildContext& ctx) {
  FastRcnnHeadOptions o;
  o.num_classes = ctx.num_classes();
  if (o.num_classes < 1) throw InputError(node.file(), node.path(), "fast_rcnn_head needs the data set's classes");
  o.in_shape = ctx.region_shape;
  if (node.has("in_features")) {
    const int64_t d = node.get<int64_t>("in_features");
    if (d <= 0) config_error(node, "in_features", "must be positive");
    o.in_shape = {d};
  }
  if (o.in_shape.empty())
    throw InputError(node.file(), node.path(),
                     "fast_rcnn_head needs the region feature size: a torch feature stage (roi_pool, roi_align, "
                     "cnn_crop) or in_features: D");
  o.representation_size = node.get<int64_t>("representation_size", o.representation_size);
  if (o.representation_size < 0) config_error(node, "representation_size", "must be >= 0 (0: no fc6 / fc7)");
  if (node.has("sampling")) o.roi_heads = parse_roi_sampling(node.child("sampling"), o.roi_heads);
  o.roi_heads.box_loss_beta = node.get<double>("box_loss_beta", o.roi_heads.box_loss_beta);
  if (!(o.roi_heads.box_loss_beta >= 0)) config_error(node, "box_loss_beta", "must be >= 0");
  if (node.has("fit")) {
    const Config f = node.child("fit");
    o.epochs = f.get<int>("epochs", o.epochs);
    o.lr = f.get<double>("lr", o.lr);
    o.weight_decay = f.get<double>("weight_decay", o.weight_decay);
    o.batch_size = f.get<int>("batch_size", o.batch_size);
    if (o.epochs < 1) config_error(f, "epochs", "must be >= 1");
    if (!(o.lr > 0)) config_error(f, "lr", "must be positive");
    if (o.batch_size < 1) config_error(f, "batch_size", "must be >= 1");
  }
  return o;
}

std::unique_ptr<ClassifierStage> make_fast_rcnn_head(const FastRcnnHeadOptions& opts) {
  return std::make_unique<FastRcnnHead>(opts);
}

void register_fast_rcnn_head_stage(Registry<ClassifierStage>& r) {
  r.add(
      "fast_rcnn_head",
      [](const Config& c, BuildContext& b) {
        return with_config_errors(c, [&] { return make_fast_rcnn_head(parse_fast_rcnn_head(c, b)); });
      },
      "fc6 / fc7, softmax over K+1 classes and class-specific box deltas (Fast R-CNN, Girshick 2015)");
}

}  // namespace detlab
