// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// (cli/: the explainer runs a detector's stages, and viz/ sits below detectors/ in the layer order.)
// Staged detections as targets (R-CNN, Fast R-CNN, the staged Faster R-CNN, HOG+SVM): the classifier stage's
// score of the detection's class for the fixed proposal it was refined from. With a torch backbone stage, a
// torch pooler over its maps and a torch head (Fast / staged Faster R-CNN) that score is computed again by the
// stages' own modules, differentiably; otherwise by the stages themselves on the host (perturbation methods).
#include <torch/nn/module.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/box_ops.h"
#include "core/error.h"
#include "detectors/dlib_fhog.h"
#include "detectors/postprocess.h"
#include "detectors/staged.h"
#include "nn/heads/box_roi_pool.h"
#include "pipeline/feature_maps.h"
#include "pipeline/region_evidence.h"
#include "pipeline/torch_stage.h"
#include "tensor/transform.h"
#include "cli/visualize_staged.h"

namespace detlab::cli {

namespace {

/// The host path's input: the image's own pixels, RGB / 255 (no resize, no padding), which the stages get back
/// exactly (round(x * 255)).
TransformOptions raw_pixels() {
  TransformOptions t;
  t.min_size = 0;  // keep the size
  t.mean = {0.f, 0.f, 0.f};
  t.std = {1.f, 1.f, 1.f};
  t.size_divisibility = 1;
  return t;
}

/// Image b of a host-path input batch (raw pixels / 255, RGB) as the BGR image the stages read.
cv::Mat input_bgr(const torch::Tensor& input, int64_t b) {
  const torch::Tensor pixels =
      (input[b].detach().to(torch::kCPU, torch::kFloat) * 255.f).round().clamp(0, 255).to(torch::kUInt8);
  const torch::Tensor hwc = pixels.flip(0).permute({1, 2, 0}).contiguous();  // RGB -> BGR, H x W x 3
  return cv::Mat(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>()).clone();
}

Box proposal_box(const ExplainedDetection& d) {  // image pixels (the host path's scale is 1)
  const torch::Tensor p = d.proposal.to(torch::kCPU, torch::kFloat);
  return Box{p[0][0].item<float>(), p[0][1].item<float>(), p[0][2].item<float>(), p[0][3].item<float>()};
}

/// A detector's detections (original-image pixels) as the network-input tensors DetectionExplainer::explain reads.
NetDetections network_detections(const Detections& dets, const ImageMeta& meta) {
  const auto n = static_cast<int64_t>(dets.size());
  torch::Tensor boxes = torch::empty({n, 4}, torch::kFloat), scores = torch::empty({n}, torch::kFloat);
  torch::Tensor labels = torch::empty({n}, torch::kLong);
  for (int64_t k = 0; k < n; ++k) {
    const Detection& d = dets[static_cast<size_t>(k)];
    boxes[k] = torch::tensor({d.box.x1, d.box.y1, d.box.x2, d.box.y2});
    scores[k] = d.score;
    labels[k] = static_cast<int64_t>(d.label);
  }
  return {to_network(boxes, meta), scores, labels};
}

/// Grad-CAM of a region explainer: the cells' evidence as a map over the input.
Heatmap region_heatmap(const cv::Mat& cells, const Box& grid, const torch::Tensor& input, const ExplainedDetection& d) {
  Heatmap h;
  h.grid = Heatmap::Grid::kInput;
  h.values = region_cells_map(cells, grid, input.size(2), input.size(3));
  h.method = "grad_cam";
  h.target = 0;
  h.target_name = d.name;
  h.score = d.score;
  return h;
}

/// The differentiable path of a staged pipeline, when it has one: backbone stage -> pooler over its maps ->
/// box head -> predictor, the modules the stages themselves run.
struct TorchPath {
  std::shared_ptr<Backbone> backbone;
  TransformOptions transform;
  std::shared_ptr<RoiPooler> pooler;
  TwoMlpHead head{nullptr};
  FastRcnnPredictor predictor{nullptr};
};

std::optional<TorchPath> torch_path(const StagedParts& parts) {
  auto* b = dynamic_cast<TorchBackboneStage*>(parts.backbone.get());
  auto* f = dynamic_cast<TorchFeatureStage*>(parts.features.get());
  auto* c = dynamic_cast<TorchClassifierStage*>(parts.classifier.get());
  if (!b || !f || !c || f->own_transform() || f->pooler()->featmap_names().empty()) return std::nullopt;
  return TorchPath{b->backbone(), b->transform(), f->pooler(), c->box_head(), c->box_predictor()};
}

std::vector<std::string> path_layers(const std::optional<TorchPath>& path) {
  if (!path) return {};
  std::vector<std::pair<int64_t, std::string>> by_stride;
  for (const auto& [name, shape] : path->backbone->output_shape()) by_stride.emplace_back(shape.stride, name);
  std::sort(by_stride.begin(), by_stride.end());
  std::vector<std::string> out;
  for (const auto& p : by_stride) out.push_back(p.second);
  return out;
}

class StagedExplainer : public DetectionExplainer {
 public:
  StagedExplainer(StagedInternals staged, std::optional<TorchPath> path, std::vector<std::string> class_names,
                  torch::Device device)
      : DetectionExplainer(path ? path->transform : raw_pixels(), std::move(class_names), device, path_layers(path)),
        staged_(staged),
        path_(std::move(path)) {}

  std::string family() const override { return "staged"; }

  TapMap features(const torch::Tensor& input) override {
    require_network("layer methods");
    return path_->backbone->forward(input);
  }
  torch::nn::Module& module() override { return path_ ? *path_->backbone : no_network_; }
  std::string default_layer() const override {
    require_network("layer and gradient methods");
    return DetectionExplainer::default_layer();
  }

  std::optional<Heatmap> region_grad_cam(const torch::Tensor& input) override {
    if (path_) return std::nullopt;
    DETLAB_REQUIRE(selected().has_value(), "select a detection first");
    const ExplainedDetection& t = *selected();
    const StagedParts& parts = *staged_.parts;
    auto* linear = dynamic_cast<const LinearScorer*>(parts.classifier.get());
    auto* cells = dynamic_cast<CellDecomposable*>(parts.features.get());
    if (!linear || !cells)
      throw InputError("", "METHOD",
                       "grad-cam of a staged pipeline needs a torch backbone stage with a network head, or a linear "
                       "classifier over cell-wise features (hog, cnn_crop); " + pipeline_name() +
                           " has neither: explain it with occlusion");
    const LinearScore ls = linear->linear_score(t.label);
    if (ls.weight.empty())
      throw InputError("", "--detection", "class " + std::to_string(t.label) + " has no trained linear model");
    torch::NoGradGuard no_grad;
    Image img{"explained", input_bgr(input, 0)};
    ImageContext ctx;
    ctx.image = &img;
    if (parts.backbone) parts.backbone->forward(ctx);
    const RegionCells rc = cells->decompose(ctx, Proposal{proposal_box(t), 1.f}, ls.group, ls.weight);
    return region_heatmap(rc.contributions, rc.grid, input, t);
  }

  std::vector<ExplainedDetection> detections(const ModelInput& in) override {
    torch::NoGradGuard no_grad;
    const StagedParts& parts = *staged_.parts;
    const PostprocessOptions& post = staged_.options->post;
    Image img{in.name.empty() ? "explained" : in.name, in.bgr};  // precomputed proposals are found by name
    ImageContext ctx;
    ctx.image = &img;
    if (parts.backbone) parts.backbone->forward(ctx);
    const Proposals proposals = parts.proposals->propose(ctx);
    const RegionScores scores = parts.classifier->classify(parts.features->extract(ctx, proposals));
    const Detections dets = postprocess(proposals, scores, in.bgr.cols, in.bgr.rows, post);
    // Each detection's candidate, as postprocess made it: proposal i decoded with class c's deltas, clipped.
    const float w = static_cast<float>(in.bgr.cols), h = static_cast<float>(in.bgr.rows);
    std::vector<int64_t> source;
    for (const Detection& d : dets) {
      // Score first (a 1e-6 difference outweighs any box distance below 1e3 px, as match_candidate); after
      // soft-NMS, which lowers scores, the box alone.
      double best = std::numeric_limits<double>::infinity();
      int64_t best_i = 0;
      for (size_t i = 0; i < proposals.size(); ++i) {
        const Box b = clip(staged_candidate_box(proposals, scores, static_cast<int>(i), d.label, post), w, h);
        const double score_gap = post.soft_nms ? 0.0 : std::abs(double(scores.scores.at<float>(static_cast<int>(i), d.label + 1)) - d.score);
        const double cost = score_gap * 1e9 + std::abs(double(b.x1) - d.box.x1) + std::abs(double(b.y1) - d.box.y1) +
                            std::abs(double(b.x2) - d.box.x2) + std::abs(double(b.y2) - d.box.y2);
        if (cost < best) best = cost, best_i = static_cast<int64_t>(i);
      }
      source.push_back(best_i);
    }
    size_t next = 0;
    return explain(network_detections(dets, in.meta), in.meta, [](int64_t column) { return static_cast<int>(column); },
                   [&](ExplainedDetection& d, int64_t) {
                     const int64_t i = source.at(next++);
                     const Box& p = proposals[static_cast<size_t>(i)].box;
                     d.index = i;
                     d.proposal = to_network(torch::tensor({{p.x1, p.y1, p.x2, p.y2}}), in.meta);
                     d.level = level_of(d.proposal, in.meta);
                   });
  }

 protected:
  torch::Tensor run(const torch::Tensor& input, TapMap* maps, const ExplainedDetection* target) override {
    if (path_) {
      TapMap m = path_->backbone->forward(input);
      if (maps) *maps = m;
      if (!target) return torch::zeros({input.size(0), 0}, input.options());
      const int64_t n = input.size(0);
      const std::vector<torch::Tensor> boxes(static_cast<size_t>(n), target->proposal.to(input.device(), input.scalar_type()));
      const std::vector<ImageSize> sizes(static_cast<size_t>(n), ImageSize{target->image_height, target->image_width});
      const torch::Tensor pooled = path_->pooler->forward(m, input, boxes, sizes);
      const torch::Tensor x = path_->head.is_empty() ? pooled.flatten(1) : path_->head->forward(pooled);
      const torch::Tensor logits = path_->predictor->forward(x).first;  // N x (K + 1), background first
      return torch::softmax(logits, -1).select(1, target->label + 1).unsqueeze(1);
    }
    if (maps) require_network("layer methods");
    if (!target) return torch::zeros({input.size(0), 0}, input.options());
    if (torch::GradMode::is_enabled() && input.requires_grad())
      throw InputError("", "METHOD",
                       "this staged pipeline scores regions by its own stages (" + pipeline_name() +
                           "), which have no gradient: explain it with occlusion or grad-cam");
    return host_scores(input, *target);
  }

 private:
  void require_network(const char* what) const {
    if (!path_)
      throw InputError("", "METHOD",
                       std::string(what) + " need a torch backbone stage with a pooler and a network head; this staged "
                       "pipeline (" + pipeline_name() + ") is explained by occlusion and grad-cam (its region's cells)");
  }

  std::string pipeline_name() const {
    const StagedParts& p = *staged_.parts;
    return std::string(p.proposals->name()) + " -> " + std::string(p.features->name()) + " -> " +
           std::string(p.classifier->name());
  }

  /// The stages' own score of the target's class for its proposal, on each image of the batch (raw pixels).
  torch::Tensor host_scores(const torch::Tensor& input, const ExplainedDetection& target) {
    const StagedParts& parts = *staged_.parts;
    const Box p = proposal_box(target);
    std::vector<float> out;
    for (int64_t b = 0; b < input.size(0); ++b) {
      Image img{"explained", input_bgr(input, b)};
      ImageContext ctx;
      ctx.image = &img;
      if (parts.backbone) parts.backbone->forward(ctx);
      const RegionScores s = parts.classifier->classify(parts.features->extract(ctx, {Proposal{p, 1.f}}));
      out.push_back(s.scores.at<float>(0, target.label + 1));
    }
    return torch::tensor(out, input.options().dtype(torch::kFloat)).unsqueeze(1);
  }

  /// The layer whose map the proposal is pooled from: MultiScaleRoIAlign's level, else the pooler's one map.
  int level_of(const torch::Tensor& proposal, const ImageMeta& meta) const {
    if (!path_) return -1;
    const std::vector<std::string> names = path_->pooler->featmap_names();
    std::string name = names.front();
    auto* msra = dynamic_cast<MultiScaleRoiAlign*>(path_->pooler.get());
    if (msra && names.size() > 1) {
      const auto shapes = path_->backbone->output_shape();
      const auto k_min = static_cast<int64_t>(std::lround(std::log2(static_cast<double>(shapes.at(names.front()).stride))));
      const auto k_max = static_cast<int64_t>(std::lround(std::log2(static_cast<double>(shapes.at(names.back()).stride))));
      const int64_t lvl = map_levels(proposal.to(torch::kCPU, torch::kFloat), k_min, k_max,
                                     msra->options().canonical_scale, msra->options().canonical_level)[0]
                              .item<int64_t>();
      name = names.at(static_cast<size_t>(lvl));
    }
    (void)meta;
    const std::vector<std::string> all = layers();
    const auto it = std::find(all.begin(), all.end(), name);
    return it == all.end() ? static_cast<int>(all.size()) - 1 : static_cast<int>(it - all.begin());
  }

  StagedInternals staged_;
  std::optional<TorchPath> path_;
  torch::nn::Module no_network_;  // module() of a pipeline without one: no parameters
};

/// dlib's FHOG detector: its detection's score is the sigmoid of its class filter's linear score on the window
/// (dlib_fhog_evidence), computed on the host from the image's own pixels; occlusion perturbs them, Grad-CAM is
/// the filter's per-cell terms.
class FhogExplainer : public DetectionExplainer {
 public:
  FhogExplainer(Detector& detector, std::vector<std::string> class_names, torch::Device device)
      : DetectionExplainer(raw_pixels(), std::move(class_names), device, {}), detector_(detector) {}

  std::string family() const override { return "dlib_fhog"; }
  TapMap features(const torch::Tensor&) override { throw no_layers(); }
  torch::nn::Module& module() override { return no_network_; }
  std::string default_layer() const override { throw no_layers(); }

  std::vector<ExplainedDetection> detections(const ModelInput& in) override {
    const Detections dets = detector_.detect(Image{"explained", in.bgr});
    return explain(network_detections(dets, in.meta), in.meta, [](int64_t column) { return static_cast<int>(column); },
                   [&](ExplainedDetection& d, int64_t) {
                     d.proposal = torch::tensor({{d.box.x1, d.box.y1, d.box.x2, d.box.y2}});  // the window, held
                   });
  }

  std::optional<Heatmap> region_grad_cam(const torch::Tensor& input) override {
    DETLAB_REQUIRE(selected().has_value(), "select a detection first");
    const ExplainedDetection& t = *selected();
    const FhogWindowEvidence e = evidence(input, 0, t);
    return region_heatmap(e.contributions, e.grid, input, t);
  }

 protected:
  torch::Tensor run(const torch::Tensor& input, TapMap* maps, const ExplainedDetection* target) override {
    if (maps) throw no_layers();
    if (!target) return torch::zeros({input.size(0), 0}, input.options());
    if (torch::GradMode::is_enabled() && input.requires_grad())
      throw InputError("", "METHOD", "dlib's FHOG scanner has no gradient: explain it with occlusion or grad-cam");
    std::vector<float> out;
    for (int64_t b = 0; b < input.size(0); ++b)
      out.push_back(static_cast<float>(1.0 / (1.0 + std::exp(-evidence(input, b, *target).confidence))));
    return torch::tensor(out, input.options().dtype(torch::kFloat)).unsqueeze(1);
  }

 private:
  static InputError no_layers() {
    return InputError("", "METHOD", "dlib's FHOG detector has no network layers: occlusion and grad-cam (its "
                                    "filter's cells) explain its detections");
  }
  FhogWindowEvidence evidence(const torch::Tensor& input, int64_t b, const ExplainedDetection& t) {
    return *dlib_fhog_evidence(detector_, input_bgr(input, b), proposal_box(t), t.label);
  }

  Detector& detector_;
  torch::nn::Module no_network_;
};

}  // namespace

std::unique_ptr<DetectionExplainer> make_staged_explainer(Detector& detector, const std::vector<std::string>& class_names,
                                                          torch::Device device) {
  const std::optional<StagedInternals> staged = staged_internals(detector);
  if (!staged) return nullptr;
  return std::make_unique<StagedExplainer>(*staged, torch_path(*staged->parts), class_names, device);
}

std::unique_ptr<DetectionExplainer> make_fhog_explainer(Detector& detector, const std::vector<std::string>& class_names,
                                                        torch::Device device) {
  if (detector.name() != "dlib_fhog") return nullptr;
  return std::make_unique<FhogExplainer>(detector, class_names, device);
}

}  // namespace detlab::cli
