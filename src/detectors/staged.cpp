// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// StagedDetector: backbone? -> proposals -> features -> classifier -> postprocess, with fit / save / load.
#include "detectors/staged.h"

#include <chrono>
#include <optional>

#include "core/error.h"
#include "data/dataset.h"
#include "detectors/stage_region_source.h"
#include "pipeline/model_dir.h"
#include "pipeline/registries.h"
#include "pipeline/runtime.h"
#include "pipeline/training.h"
#include "pipeline/window_groups.h"
#if DETLAB_WITH_TORCH
#include "detectors/rcnn_training.h"
#endif

namespace detlab {

namespace {

/// Appends (stage, milliseconds since the previous mark) to times when times is not null.
class StageClock {
 public:
  explicit StageClock(StageTimes* times) : times_(times), last_(std::chrono::steady_clock::now()) {}
  void mark(const char* stage) {
    if (!times_) return;
    const auto now = std::chrono::steady_clock::now();
    times_->emplace_back(stage, std::chrono::duration<double, std::milli>(now - last_).count());
    last_ = now;
  }

 private:
  StageTimes* times_;
  std::chrono::steady_clock::time_point last_;
};

class StagedDetector final : public Detector {
 public:
  StagedDetector(StagedParts parts, const StagedOptions& opts) : parts_(std::move(parts)), opts_(opts) {
    DETLAB_REQUIRE(parts_.proposals && parts_.features && parts_.classifier,
                   "a staged detector needs proposal, feature and classifier stages");
    DETLAB_REQUIRE(parts_.classifier->num_classes() == static_cast<int>(opts_.class_names.size()),
                   "classifier and class names disagree", parts_.classifier->num_classes(), opts_.class_names.size());
    sync_windows();
#if DETLAB_WITH_TORCH
    runs_network_ = torch_stage_parameters(parts_) > 0;
#endif
  }

  std::string_view name() const override { return "staged"; }
  int num_classes() const override { return static_cast<int>(opts_.class_names.size()); }
  StagedParts& parts() { return parts_; }
  const StagedOptions& options() const { return opts_; }
  int64_t num_parameters() const override {
    int64_t n = parts_.classifier->num_parameters();
#if DETLAB_WITH_TORCH
    n += torch_stage_parameters(parts_);  // backbone, RPN, crop network
#endif
    return n;
  }

  Detections detect(const Image& image, StageTimes* times) override {
    DETLAB_REQUIRE(!image.bgr.empty() && image.bgr.type() == CV_8UC3, "detect() needs a CV_8UC3 image", image.id);
    StageClock clock(times);
    std::optional<ScopedNetworkThreads> network_threads;
    if (runs_network_) network_threads.emplace();
    ImageContext ctx;
    ctx.image = &image;
    if (parts_.backbone) {
      parts_.backbone->forward(ctx);  // once per image, shared by proposals and features
      clock.mark("backbone");
    }
    const Proposals proposals = parts_.proposals->propose(ctx);
    clock.mark("proposals");
    const RegionFeatures features = parts_.features->extract(ctx, proposals);
    clock.mark("features");
    const RegionScores scores = parts_.classifier->classify(features);
    clock.mark("classifier");
    Detections dets = postprocess(proposals, scores, image.bgr.cols, image.bgr.rows, opts_.post);
    clock.mark("post");
    return dets;
  }

  void fit(const TrainContext& ctx) override {
    DETLAB_REQUIRE(ctx.train != nullptr, "TrainContext::train is required");
    if (ctx.train->class_names != opts_.class_names)
      throw InputError(opts_.config_file, opts_.config_path, "training set classes differ from the detector's");
    parts_.proposals->fit(*ctx.train);
    sync_windows();
    std::optional<ScopedNetworkThreads> network_threads;  // a CNN's features feed the classifier's training too
    if (runs_network_) network_threads.emplace();
#if DETLAB_WITH_TORCH
    // Torch stages train end to end first; a torch head trained there needs no classifier pass below.
    if (fit_torch_stages(parts_, opts_.train.get(), ctx, opts_.config_file, opts_.config_path)) return;
#endif
    StageRegionSource source(*ctx.train, parts_.backbone.get(), *parts_.proposals, *parts_.features,
                             [this](int c) { return group_of_class(c); }, ctx.threads);
    ClassifierTrainContext cctx;
    cctx.source = &source;
    cctx.threads = ctx.threads;
    cctx.seed = ctx.seed;
    cctx.out_dir = ctx.out_dir;
    parts_.classifier->fit(cctx);
  }

  void save(const std::filesystem::path& dir) const override {
    ModelHeader h;
    h.type = "staged";
    h.config_hash = opts_.config_hash;
    h.class_names = opts_.class_names;
    h.files = save_model_files(dir, [&](const std::filesystem::path& tmp) {
      if (parts_.backbone) parts_.backbone->save(tmp);
      parts_.proposals->save(tmp);
      parts_.features->save(tmp);
      parts_.classifier->save(tmp);
    });
    write_model_header(dir, h);
  }

  void load(const std::filesystem::path& dir) override {
    read_model_header(dir, "staged", opts_.class_names, opts_.config_hash);
    if (parts_.backbone) parts_.backbone->load(dir);
    parts_.proposals->load(dir);
    sync_windows();
    parts_.features->load(dir);
    parts_.classifier->load(dir);
  }

 private:
  /// Feature groups follow the proposal stage's window shapes; each class is detected in its window's group.
  void sync_windows() {
    const std::vector<WindowShape> shapes = window_shapes_of(*parts_.proposals);
    set_feature_windows(*parts_.features, shapes);
    for (int c = 0; c < num_classes(); ++c) {
      const int k = group_of_class(c);
      if (k < 0 || k >= std::max<int>(1, static_cast<int>(shapes.size())))
        throw InputError(opts_.config_file, opts_.config_path + ".proposals",
                         std::to_string(shapes.size()) + " window shapes for " + std::to_string(num_classes()) +
                             " classes: give one window, one per class, or windows: auto");
    }
  }

  int group_of_class(int c) const {
    return window_group_of_class(*parts_.proposals, c);
  }

  StagedParts parts_;
  StagedOptions opts_;
  bool runs_network_ = false;  // a stage runs a torch network (ScopedNetworkThreads around it)
};

}  // namespace

std::optional<StagedInternals> staged_internals(Detector& detector) {
  auto* staged = dynamic_cast<StagedDetector*>(&detector);
  if (!staged) return std::nullopt;
  return StagedInternals{&staged->parts(), &staged->options()};
}

std::unique_ptr<Detector> make_staged(StagedParts parts, const StagedOptions& opts) {
  return std::make_unique<StagedDetector>(std::move(parts), opts);
}

std::unique_ptr<Detector> build_staged(const Config& node, BuildContext& ctx) {
  DETLAB_REQUIRE(ctx.registries != nullptr, "BuildContext::registries must be set to build a staged detector");
  if (ctx.class_names.empty())
    throw InputError(node.file(), node.path(), "a staged detector needs the dataset's class names");
  const Registries& r = *ctx.registries;
  StagedParts parts;
  if (node.has("backbone")) {
    parts.backbone = r.backbones.build(node.child("backbone"), ctx);
    ctx.backbone = parts.backbone->output_shape();
  }
  parts.proposals = r.proposals.build(node.child("proposals"), ctx);
  parts.features = r.features.build(node.child("features"), ctx);
  parts.classifier = r.classifiers.build(node.child("classifier"), ctx);
  StagedOptions opts;
  if (node.has("postprocess")) opts.post = parse_postprocess(node.child("postprocess"));
  if (node.has("train")) {
#if DETLAB_WITH_TORCH
    opts.train = parse_staged_training(node.child("train"));
#else
    throw InputError(node.file(), node.child_path("train"), "training torch stages needs a build with LibTorch");
#endif
  }
  opts.class_names = ctx.class_names;
  opts.config_hash = node.hash();
  opts.config_file = node.file();
  opts.config_path = node.path();
  if (parts.classifier->num_classes() != ctx.num_classes())
    throw InputError(node.file(), node.child_path("classifier"),
                     "classifier has " + std::to_string(parts.classifier->num_classes()) + " classes, the dataset " +
                         std::to_string(ctx.num_classes()));
  return make_staged(std::move(parts), opts);
}

}  // namespace detlab
